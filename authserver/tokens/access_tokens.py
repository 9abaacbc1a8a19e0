"""Our own RFC 9068 access tokens, read back: the admin API's bearer tokens, introspection
(RFC 7662), revocation (RFC 7009), re-exchange and actor tokens (RFC 8693).

Every check is explicit: the compact JWS parsed strictly first (UTF-8 JSON objects, bounded
size and depth), then the signature with an allow-listed algorithm and a published ``kid``,
``typ`` = ``at+jwt``, ``iss`` exact, ``aud``, ``exp`` / ``nbf`` / ``iat`` with clock skew, and
a ``jti``. A token is *active* while it also is not revoked (:mod:`authserver.tokens.revocation`).
"""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from authserver.config import SIGNING_ALGORITHMS
from authserver.edge.jose_compact import MalformedToken, parse_compact
from authserver.models import Client
from authserver.state import RealmContext
from authserver.tokens.revocation import token_is_revoked

ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")


class InvalidToken(Exception):
    """The token is not one of ours, or no longer valid; ``reason`` says why (for logs)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def validate_access_token(ctx: RealmContext, token: str, audience: str | None = None) -> dict[str, Any]:
    try:
        parsed = parse_compact(token, ctx.settings.max_subject_token_bytes)
    except MalformedToken:
        raise InvalidToken("malformed") from None
    if str(parsed.header.get("typ", "")).lower() not in ACCESS_TOKEN_TYPES:
        raise InvalidToken("typ")
    keys = ctx.state.keys.verification_keys(ctx.realm.name)
    try:
        decoded = jwt.decode(token, keys, algorithms=list(SIGNING_ALGORITHMS))
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidToken(f"signature: {exc.__class__.__name__}") from None
    claims = dict(decoded.claims)
    _check_claims(ctx, claims, audience)
    return claims


def _check_claims(ctx: RealmContext, claims: dict[str, Any], audience: str | None) -> None:
    now, skew = ctx.clock(), ctx.settings.clock_skew
    if claims.get("iss") != ctx.issuer:
        raise InvalidToken("iss")
    if audience is not None and audience not in _as_list(claims.get("aud")):
        raise InvalidToken("aud")
    if not _is_int(claims.get("exp")) or claims["exp"] <= now - skew:
        raise InvalidToken("exp")
    if "nbf" in claims and (not _is_int(claims["nbf"]) or claims["nbf"] > now + skew):
        raise InvalidToken("nbf")
    if "iat" in claims and (not _is_int(claims["iat"]) or claims["iat"] > now + skew):
        raise InvalidToken("iat")
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise InvalidToken("jti")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _as_list(value: Any) -> list:
    if isinstance(value, list):
        return value
    return [value] if value is not None else []


class IssuedToken:
    """One of our tokens as Authlib's RFC 7662 / RFC 7009 endpoints see it."""

    def __init__(self, ctx: RealmContext, claims: dict[str, Any]):
        self.ctx = ctx
        self.claims = claims

    def check_client(self, client: Client) -> bool:
        return self.claims.get("client_id") == client.client_id

    def is_expired(self) -> bool:
        return False  # validate_access_token already refused expired tokens

    def is_revoked(self) -> bool:
        return token_is_revoked(self.ctx.realm, self.claims)


def parse_issued_token(ctx: RealmContext, token: str) -> IssuedToken | None:
    """One of our tokens with a valid signature and claims, or None (not ours, expired…)."""
    try:
        return IssuedToken(ctx, validate_access_token(ctx, token))
    except InvalidToken:
        return None


def active_claims(ctx: RealmContext, token: str) -> dict[str, Any] | None:
    issued = parse_issued_token(ctx, token)
    if issued is None or issued.is_revoked():
        return None
    return issued.claims
