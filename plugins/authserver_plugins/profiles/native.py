"""RFC 9068 JWT access token: the native chat JWT (DESIGN.md, "The chat JWT").

Header ``{"typ": "at+jwt"}``; the core adds ``alg`` and ``kid`` and signs with the realm's
active key (``ShapedToken.key`` is None). Claims: ``iss sub aud exp iat jti client_id scope
uid identified verified`` always (``scope`` when any was granted), and ``idp name
given_name family_name custom unverified acl workspace act sid`` when present.
"""

from __future__ import annotations

from typing import Any

from authserver.plugin_api import (
    TOKEN_TYPE_ACCESS_TOKEN,
    GrantedToken,
    ShapedToken,
    TokenProfile,
)

from ._common import drop_none, plain

#: RFC 9068 §2.1 media type of JWT access tokens.
HEADER_TYP = "at+jwt"


class NativeProfile(TokenProfile):
    """The chat JWT, verified by chat backends against the realm's JWKS."""

    name = "native"
    issued_token_type = TOKEN_TYPE_ACCESS_TOKEN

    def shape(self, token: GrantedToken) -> ShapedToken:
        return ShapedToken(header={"typ": HEADER_TYP}, claims=native_claims(token))


def native_claims(token: GrantedToken) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": token.issuer,
        "sub": token.subject,
        "aud": token.audience,
        "exp": token.expires_at,
        "iat": token.issued_at,
        "jti": token.jti,
        "client_id": token.client_id,
        "scope": " ".join(token.scopes) or None,
        "uid": token.uid,
        "identified": token.identified,
        "verified": token.verified,
    }
    return drop_none(claims | _optional_claims(token))


def _optional_claims(token: GrantedToken) -> dict[str, Any]:
    return {
        "idp": token.idp,
        "name": token.name,
        "given_name": token.given_name,
        "family_name": token.family_name,
        "custom": plain(token.custom),
        "unverified": plain(token.unverified),
        "acl": None if token.acl is None else [plain(entry) for entry in token.acl],
        "workspace": token.workspace,
        "act": plain(token.act),
        "sid": token.sid,
    }

