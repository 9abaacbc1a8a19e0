"""RFC 7515 compact JWS parsing and signature check for RFC 9068 access tokens.

The token is split and its header decoded here, before any key is looked up, so the header
can be judged first: ``typ`` must be ``at+jwt`` (RFC 9068 section 2.1; ``application/at+jwt``
and any letter case accepted, RFC 7515 section 4.1.9), ``alg`` must be in the allow-list
(never ``none`` nor an HMAC), ``kid`` must be present and ``crit`` absent. The signature is
then checked with joserfc's algorithm implementations against the one key named by ``kid``,
and only a payload whose signature verified is decoded (:func:`decode_payload`).

Header and payload are I-JSON objects (UTF-8, no duplicate names, bounded depth; see
:mod:`authserver_verifier.strict_json`), and the header segment is at most 1 KiB; any defect
is ``TokenError("malformed")``.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import Key
from joserfc.jws import JWSRegistry

from .errors import TokenError
from .strict_json import loads_object

__all__ = ["ASYMMETRIC_ALGORITHMS", "CompactToken", "decode_payload", "parse", "verify_signature"]

ASYMMETRIC_ALGORITHMS = frozenset(
    {"ES256", "ES384", "ES512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA", "Ed25519", "Ed448"}
)
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})
#: characters of the header segment; authserver's is about 120, joserfc's own bound is 512
MAX_HEADER_SEGMENT = 1024
_COMPACT = re.compile(r"([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]*)")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


@dataclass(frozen=True, slots=True)
class CompactToken:
    """A compact JWS whose header passed :func:`check_header`; signature not yet verified."""

    header: dict[str, Any]
    payload_segment: bytes
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        return self.header["alg"]

    @property
    def kid(self) -> str:
        return self.header["kid"]


def parse(token: str | bytes, max_size: int, algorithms: frozenset[str]) -> CompactToken:
    """Split ``token``, decode and check its header; raise TokenError on any defect."""
    text = token.decode("latin-1") if isinstance(token, bytes) else token
    if not isinstance(text, str):
        raise TokenError("malformed")
    if len(text) > max_size:
        raise TokenError("too_large")
    match = _COMPACT.fullmatch(text)  # also refuses every non-ASCII character
    if match is None:
        raise TokenError("malformed")
    if match.end(1) > MAX_HEADER_SEGMENT:  # judged unauthenticated, so kept cheap to refuse
        raise TokenError("malformed", "header too large")
    raw = text.encode("ascii")
    header = _json_segment(raw[: match.end(1)])
    check_header(header, algorithms)
    signing_input = raw[: match.end(2)]
    return CompactToken(header, signing_input[match.start(2) :], signing_input, _b64decode(raw[match.start(3) :]))


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


def decode_payload(token: CompactToken) -> dict[str, Any]:
    """The decoded payload; call only once the signature verified."""
    return _json_segment(token.payload_segment)


def _json_segment(segment: bytes) -> dict[str, Any]:
    try:
        return loads_object(_b64decode(segment))
    except ValueError:  # UnicodeDecodeError and json.JSONDecodeError included
        raise TokenError("malformed") from None


def _b64decode(segment: bytes) -> bytes:
    """base64url without padding (RFC 7515 section 2); the alphabet was checked by ``parse``."""
    if len(segment) % 4 == 1:
        raise TokenError("malformed")
    try:
        return binascii.a2b_base64(segment.translate(_FROM_URLSAFE) + b"==", strict_mode=False)
    except binascii.Error:
        raise TokenError("malformed") from None
