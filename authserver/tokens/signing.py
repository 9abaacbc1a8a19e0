"""RFC 9068 JWT access tokens, signed: the realm's active key, or a profile's vendor key.

Token profiles (plugins) only shape header and claims; :mod:`authserver.tokens.issuance`
caps the lifetime and assigns ``jti``; this module signs.
"""

from __future__ import annotations

import secrets
from typing import Any

from authserver.keys.jose import sign_jwt
from authserver.state import RealmContext

AT_JWT = "at+jwt"

__all__ = ["AT_JWT", "new_jti", "sign_jwt", "sign_with_realm_key"]


def new_jti() -> str:
    return secrets.token_urlsafe(18)


def sign_with_realm_key(ctx: RealmContext, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """With the realm's active key, through its in-memory signer (:mod:`authserver.tokens.jws`)."""
    active = ctx.signing_key()
    return ctx.state.signers.for_key(active.kid, active.alg, active.key).sign({**header, "kid": active.kid}, claims)
