"""RFC 9068 JWT access tokens: lifetimes, ``jti`` and signing stay here, in the core.

Token profiles (plugins) only shape header and claims; this module caps the lifetime,
assigns ``jti``, and signs with the realm's active key or the profile's vendor key.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app

from authserver.keys.jose import sign_jwt
from authserver.plugin_api import GrantedToken, TokenProfile
from authserver.state import services

AT_JWT = "at+jwt"


def new_jti() -> str:
    return secrets.token_urlsafe(18)


def lifetime(requested: int) -> int:
    return max(1, min(requested, current_app.config["MAX_TOKEN_LIFETIME"]))


def sign_with_realm_key(realm_name: str, header: dict[str, Any], claims: dict[str, Any]) -> str:
    active = services().keys.signing_key(realm_name)
    return sign_jwt({**header, "kid": active.kid}, claims, active.key, active.alg)


def issue_service_token(realm_name: str, issuer: str, client_id: str, audience: str,
                        scopes: list[str], ttl: int) -> dict[str, Any]:
    """A client-credentials token (RFC 9068): the client itself is the subject."""
    now = int(services().clock())
    expires_in = lifetime(ttl)
    claims = {"iss": issuer, "sub": client_id, "aud": audience, "client_id": client_id,
              "scope": " ".join(scopes), "iat": now, "exp": now + expires_in, "jti": new_jti()}
    token = sign_with_realm_key(realm_name, {"typ": AT_JWT}, claims)
    return bearer_response(token, expires_in, scopes)


def issue_profiled_token(realm_name: str, granted: GrantedToken,
                         profile: TokenProfile) -> tuple[str, str]:
    """Shape ``granted`` with ``profile`` and sign it; returns (token, issued_token_type)."""
    shaped = profile.shape(granted)
    if shaped.key is None:
        token = sign_with_realm_key(realm_name, dict(shaped.header), dict(shaped.claims))
    else:
        token = sign_jwt(dict(shaped.header), dict(shaped.claims), shaped.key, shaped.algorithm)
    return token, profile.issued_token_type


def bearer_response(token: str, expires_in: int, scopes: list[str],
                    issued_token_type: str | None = None) -> dict[str, Any]:
    body = {"access_token": token, "token_type": "Bearer", "expires_in": expires_in,
            "scope": " ".join(scopes)}
    if issued_token_type:
        body["issued_token_type"] = issued_token_type
    return body

