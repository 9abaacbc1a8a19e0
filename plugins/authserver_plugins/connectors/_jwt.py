"""RFC 7515 / RFC 7519 JWT verification steps shared by the connectors.

Follows RFC 8725 (JSON Web Token Best Current Practices): the size is checked before any
parsing (§3.1 of the design: 16 KiB), the algorithm is taken from an explicit allow-list
(§3.1: never ``none``, never HMAC verified with a public key), the key is chosen by the
verifier from its own key set (never from ``jwk``/``jku``/``x5u`` in the header), and the
claims are checked with a bounded clock skew (RFC 7519 §4.1).

Every refusal is an :class:`InvalidSubjectToken` with a short generic ``description`` and a
precise ``detail`` for the log.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import (
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import Key, KeySet
from joserfc.jws import CompactSignature, JWSAlgModel, JWSRegistry

from authserver.plugin_api import InvalidSubjectToken, read_compact_jws

INVALID = "the subject token is invalid"
EXPIRED = "the subject token has expired"
TOO_LARGE = "the subject token is too large"
UNSUPPORTED_TYPE = "the subject token type is not supported by this identity provider"


def refuse(detail: str, description: str = INVALID) -> InvalidSubjectToken:
    """The exception to raise: generic ``description`` for the client, ``detail`` for logs."""
    return InvalidSubjectToken(description=description, detail=detail)


class AllowListRegistry(JWSRegistry):
    """A JWS registry that accepts exactly the algorithms it is given, and nothing else.

    joserfc warns on ``EdDSA`` (RFC 9864 deprecates the polymorphic name) but IdPs still
    publish it and it is on our allow-list deliberately, so this registry does not warn.
    Headers carrying an ``x5c`` chain exceed joserfc's default 512-byte header limit; the
    whole token is already bounded by the context's ``max_token_bytes``.
    """

    max_header_length = 8192

    def get_alg(self, name: str) -> JWSAlgModel:
        if not self.allowed or name not in self.allowed or name not in self.algorithms:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]


def check_token_type(token_type: str, accepted: Collection[str]) -> None:
    if token_type not in accepted:
        raise refuse(f"token type {token_type!r} not accepted", UNSUPPORTED_TYPE)


def check_size(token: Any, max_bytes: int) -> bytes:
    """The token as bytes, refused when it is not a string or exceeds ``max_bytes``
    (``MAX_SUBJECT_TOKEN_BYTES`` from the core's configuration, via the context)."""
    if not isinstance(token, str) or not token:
        raise refuse("subject token is empty or not a string")
    raw = token.encode("utf-8", "replace")
    if len(raw) > max_bytes:
        raise refuse(f"subject token of {len(raw)} bytes exceeds {max_bytes}", TOO_LARGE)
    return raw


@dataclass(frozen=True)
class SignedToken:
    """A compact JWS read once, not yet verified: ``header`` and ``claims`` as the core's
    strict parser reads them, ``compact`` as joserfc splits it (what its signature check
    takes), so verifying it parses nothing again."""

    header: dict[str, Any]
    claims: dict[str, Any]
    compact: CompactSignature


def read_token(raw: bytes) -> SignedToken:
    """The parts of a compact JWS, refused when anything is malformed (header and payload
    must be UTF-8 JSON objects: the core's strict parser decides; joserfc must read the
    same header)."""
    try:
        token = raw.decode("ascii")
    except UnicodeDecodeError:
        raise refuse("subject token is not ASCII") from None
    header, claims = read_compact_jws(token, len(raw))
    try:
        compact = jws.extract_compact(raw, registry=AllowListRegistry())
    except (JoseError, ValueError, TypeError) as error:
        raise refuse(f"malformed JWS: {_describe(error)}") from error
    if not isinstance(header.get("alg"), str):
        raise refuse("JWS header has no alg")
    if not isinstance(header.get("kid", ""), str):
        raise refuse("JWS header kid is not a string")
    if header.get("b64", True) is not True:
        raise refuse("JWS with unencoded payload (RFC 7797) is not a JWT")
    return SignedToken(header=header, claims=claims, compact=compact)


def check_algorithm(header: Mapping[str, Any], allowed: Collection[str]) -> str:
    """The header's ``alg`` when it is on the allow-list; ``none`` never is."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none" or alg not in allowed:
        raise refuse(f"algorithm {alg!r} not in allow-list {sorted(allowed)}")
    return alg


def find_key(keys: KeySet, kid: str | None, alg: str) -> Key | None:
    """The key named ``kid`` usable with ``alg``; without a ``kid`` only a lone key qualifies.

    OpenID Connect Core 1.0 §10.1: with several keys in the set, ``kid`` is required.
    """
    try:
        return keys.get_by_kid(kid, {"alg": alg, "use": "sig"})
    except InvalidKeyIdError:
        return None


def verifies(key: Key, alg: str) -> bool:
    """Whether ``key`` can verify ``alg`` signatures: its ``alg`` when it names one, else its
    key type (and curve, for EC) as the algorithm needs them."""
    if key.get("alg"):
        return key.get("alg") == alg
    model = JWSRegistry.algorithms.get(alg)
    if model is None or model.key_type != key.key_type:
        return False
    curve = getattr(model, "curve", None)
    return curve is None or key.get("crv") == curve


def verify_signature(token: SignedToken, key: Key, alg: str) -> dict[str, Any]:
    """The claims of ``token`` once its signature verifies with ``key`` under ``alg`` only
    (joserfc: the header checked against a registry of that one algorithm, the key's type
    and use checked for it, then the signature)."""
    registry = AllowListRegistry(algorithms=[alg], strict_check_header=False)
    try:
        verified = jws.validate_compact(token.compact, key, registry=registry)
    except (JoseError, ValueError) as error:
        raise refuse(f"signature verification failed: {_describe(error)}") from error
    if not verified:
        raise refuse("signature verification failed: BadSignatureError: bad_signature")
    return dict(token.claims)


def check_claims(
    claims: Mapping[str, Any],
    *,
    now: float,
    leeway: int,
    issuer: str,
    audiences: Iterable[str],
    required: Iterable[str] = ("sub", "exp", "iat"),
) -> None:
    """RFC 7519 §4.1: ``iss`` exact, ``aud`` contains one of ``audiences``, ``exp`` / ``nbf``
    / ``iat`` within ``leeway`` seconds (the configured clock skew), every ``required`` claim
    present and non-blank."""
    options: dict[str, Any] = {name: {"essential": True} for name in required}
    options["iss"] = {"essential": True, "value": issuer}
    options["aud"] = {"essential": True, "values": list(audiences)}
    registry = jwt.JWTClaimsRegistry(now=int(now), leeway=leeway, **options)
    try:
        registry.validate(dict(claims))
    except ExpiredTokenError as error:
        detail = f"token expired (exp={claims.get('exp')!r}, now={int(now)})"
        raise refuse(detail, EXPIRED) from error
    except JoseError as error:
        raise refuse(f"claim check failed: {_describe(error)}") from error
    if "sub" in options and (not isinstance(claims["sub"], str) or not claims["sub"].strip()):
        raise refuse("sub is blank")


def audiences_of(claims: Mapping[str, Any]) -> list[str]:
    """``aud`` as a list (RFC 7519 §4.1.3 allows a single string)."""
    aud = claims.get("aud")
    return [aud] if isinstance(aud, str) else list(aud or [])


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"
