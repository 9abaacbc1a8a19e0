"""Our own access tokens as Authlib sees them (RFC 7662 / RFC 7009 token objects):
validated from the JWT itself, active only while not expired and not revoked."""

from __future__ import annotations

from typing import Any

from authserver.models import Client, Realm
from authserver.tokens.access_tokens import InvalidToken, validate_access_token
from authserver.tokens.revocation import token_is_revoked


class IssuedToken:
    def __init__(self, realm: Realm, claims: dict[str, Any]):
        self.realm = realm
        self.claims = claims

    def check_client(self, client: Client) -> bool:
        return self.claims.get("client_id") == client.client_id

    def is_expired(self) -> bool:
        return False  # validate_access_token already refused expired tokens

    def is_revoked(self) -> bool:
        return token_is_revoked(self.realm, self.claims)


def parse_issued_token(realm: Realm, issuer: str, token: str) -> IssuedToken | None:
    """One of our tokens with a valid signature and claims, or None (not ours, expired…)."""
    try:
        return IssuedToken(realm, validate_access_token(realm.name, issuer, token))
    except InvalidToken:
        return None


def active_claims(realm: Realm, issuer: str, token: str) -> dict[str, Any] | None:
    issued = parse_issued_token(realm, issuer, token)
    if issued is None or issued.is_revoked():
        return None
    return issued.claims
