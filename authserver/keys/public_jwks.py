"""RFC 7517 JSON Web Key Sets a client registers (RFC 7591 §2 ``jwks`` / ``jwks_uri``):
public signing keys only, allow-listed algorithms, RSA keys of at least 2048 bits (RFC 7518
§3.3). One check for the CLI, the admin API, dynamic registration and fetched ``jwks_uri``s."""

from __future__ import annotations

from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from authserver.errors import InvalidInput
from authserver.plugin_api import ASYMMETRIC_ALGORITHMS

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
MIN_RSA_BITS = 2048


def public_jwks(value: Any) -> dict:
    """A JWKS of public signing keys only; a private or symmetric key is refused."""
    if not isinstance(value, dict) or not isinstance(value.get("keys"), list) or not value["keys"]:
        raise InvalidInput("jwks: must be a JSON Web Key Set: an object whose keys member lists at least one key")
    for key in value["keys"]:
        if not isinstance(key, dict) or PRIVATE_MEMBERS & set(key):
            raise InvalidInput("jwks: only public keys may be registered (found private or symmetric key material)")
        if "alg" in key and key["alg"] not in ASYMMETRIC_ALGORITHMS:
            raise InvalidInput(f"jwks: algorithm {key['alg']!r} is not allowed")
    try:
        keys = KeySet.import_key_set(value)
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(f"jwks: not a valid JSON Web Key Set ({exc.__class__.__name__})") from None
    for key in keys.keys:
        if key.key_type == "RSA" and key.raw_value.key_size < MIN_RSA_BITS:
            raise InvalidInput(f"jwks: RSA keys must be at least {MIN_RSA_BITS} bits (RFC 7518 section 3.3)")
    return value
