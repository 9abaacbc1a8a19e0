"""RFC 7517/7518/7638 key handling on top of joserfc: generate, serialize, sign.

The only place that turns key material into joserfc key objects, so the allow-list of
signing algorithms lives here.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey, RSAKey

# "EdDSA" is the JOSE name DESIGN.md and every JWT library know; RFC 9864 prefers "Ed25519".
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)

AnyKey = ECKey | RSAKey | OKPKey
KEY_TYPES: dict[str, type] = {"ES256": ECKey, "RS256": RSAKey, "EdDSA": OKPKey}


def generate_private_key(alg: str, rsa_bits: int = 2048) -> AnyKey:
    if alg == "ES256":
        return ECKey.generate_key("P-256")
    if alg == "RS256":
        return RSAKey.generate_key(rsa_bits)
    if alg == "EdDSA":
        return OKPKey.generate_key("Ed25519")
    raise ValueError(f"unsupported signing algorithm {alg!r}")


def private_pem(key: AnyKey) -> bytes:
    return key.as_pem(private=True)


def load_private_key(alg: str, pem: bytes) -> AnyKey:
    return KEY_TYPES[alg].import_key(pem)


def public_jwk(key: AnyKey, alg: str) -> dict[str, Any]:
    """The public members only, with ``kid`` = RFC 7638 thumbprint."""
    jwk = key.as_dict(private=False)
    jwk.update({"kid": key.thumbprint(), "alg": alg, "use": "sig"})
    return jwk


def sign_jwt(header: dict[str, Any], claims: dict[str, Any], key: Any, alg: str) -> str:
    return jwt.encode({**header, "alg": alg}, claims, key, algorithms=[alg])


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
