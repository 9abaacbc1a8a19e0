"""Validation of our own RFC 9068 access tokens (admin API, introspection, re-exchange).

Every check is explicit: signature with an allow-listed algorithm and a published ``kid``,
``typ`` = ``at+jwt``, ``iss`` exact, ``aud``, ``exp`` / ``nbf`` / ``iat`` with clock skew.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from authserver.config import SIGNING_ALGORITHMS
from authserver.state import services

MAX_TOKEN_BYTES = 16 * 1024


class InvalidToken(Exception):
    """The token is not one of ours, or no longer valid; ``reason`` says why (for logs)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def validate_access_token(realm_name: str, issuer: str, token: str,
                          audience: str | None = None) -> dict[str, Any]:
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_BYTES:
        raise InvalidToken("malformed")
    keys = KeySet.import_key_set(services().keys.jwks(realm_name))
    try:
        decoded = jwt.decode(token, keys, algorithms=list(SIGNING_ALGORITHMS))
    except (JoseError, ValueError, TypeError) as exc:
        raise InvalidToken(f"signature: {exc.__class__.__name__}") from None
    if str(decoded.header.get("typ", "")).lower() not in ("at+jwt", "application/at+jwt"):
        raise InvalidToken("typ")
    claims = decoded.claims
    _check_claims(claims, issuer, audience)
    return claims


def _check_claims(claims: dict[str, Any], issuer: str, audience: str | None) -> None:
    now = services().clock()
    skew = current_app.config["CLOCK_SKEW_SECONDS"]
    if claims.get("iss") != issuer:
        raise InvalidToken("iss")
    if audience is not None and audience not in _as_list(claims.get("aud")):
        raise InvalidToken("aud")
    if not isinstance(claims.get("exp"), int) or claims["exp"] <= now - skew:
        raise InvalidToken("exp")
    if isinstance(claims.get("nbf"), int) and claims["nbf"] > now + skew:
        raise InvalidToken("nbf")
    if isinstance(claims.get("iat"), int) and claims["iat"] > now + skew:
        raise InvalidToken("iat")
    if not claims.get("jti"):
        raise InvalidToken("jti")


def _as_list(value: Any) -> list:
    if isinstance(value, list):
        return value
    return [value] if value is not None else []
