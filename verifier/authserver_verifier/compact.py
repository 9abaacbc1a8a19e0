"""RFC 7515 compact JWS parsing and signature check for RFC 9068 access tokens.

The token is split and decoded here, before any key is looked up, so the header can be
judged first: ``typ`` must be ``at+jwt`` (RFC 9068 section 2.1; ``application/at+jwt`` and
any letter case accepted, RFC 7515 section 4.1.9), ``alg`` must be in the allow-list (never
``none`` nor an HMAC), ``kid`` must be present and ``crit`` absent. The signature is then
checked with joserfc's algorithm implementations against the one key named by ``kid``.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import Key
from joserfc.jws import JWSRegistry

from .errors import TokenError

__all__ = ["ASYMMETRIC_ALGORITHMS", "CompactToken", "parse", "verify_signature"]

ASYMMETRIC_ALGORITHMS = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA", "Ed25519", "Ed448"}
)
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


@dataclass(frozen=True)
class CompactToken:
    """A decoded, not yet verified, compact JWS."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        return self.header["alg"]

    @property
    def kid(self) -> str:
        return self.header["kid"]


def parse(token: str | bytes, max_size: int, algorithms: frozenset[str]) -> CompactToken:
    """Decode ``token`` and check its header; raise TokenError on any defect."""
    if isinstance(token, bytes):
        token = token.decode("ascii", errors="replace")
    if not isinstance(token, str):
        raise TokenError("malformed")
    if len(token) > max_size:
        raise TokenError("too_large")
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("malformed")
    header = _json_segment(parts[0])
    check_header(header, algorithms)
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii", errors="replace")
    return CompactToken(header, _json_segment(parts[1]), signing_input, _b64decode(parts[2]))


def check_header(header: dict[str, Any], algorithms: frozenset[str]) -> None:
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
        raise TokenError("bad_typ")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in algorithms:
        raise TokenError("bad_alg")
    if not isinstance(header.get("kid"), str) or not header["kid"]:
        raise TokenError("missing_kid")
    if "crit" in header:
        raise TokenError("malformed", "crit header not supported")


def verify_signature(token: CompactToken, key: Key) -> None:
    """Raise TokenError unless ``key`` fits ``token.alg`` and the signature verifies."""
    algorithm = JWSRegistry.algorithms.get(token.alg)
    if algorithm is None:  # allowed here, but unknown to the installed joserfc
        raise TokenError("bad_alg", "algorithm not available")
    try:
        algorithm.check_key(key)
    except JoseError:
        raise TokenError("bad_alg", "key does not fit alg") from None
    try:
        valid = algorithm.verify(token.signing_input, token.signature, key)
    except (JoseError, ValueError, TypeError):
        valid = False
    if not valid:
        raise TokenError("bad_signature")


def _json_segment(segment: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64decode(segment))
    except (ValueError, UnicodeDecodeError):
        raise TokenError("malformed") from None
    if not isinstance(value, dict):
        raise TokenError("malformed")
    return value


def _b64decode(segment: str) -> bytes:
    if not _B64URL.fullmatch(segment):
        raise TokenError("malformed")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("malformed") from None
