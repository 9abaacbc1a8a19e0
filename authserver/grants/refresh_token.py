"""RFC 6749 §6 refresh token grant with rotation on every use and reuse detection
(RFC 9700 §4.14.2) — Authlib's grant class, over :mod:`authserver.tokens.refresh`.

1. authenticate   the client as registered; the token must be this client's
2. the token      live: not spent, not revoked, not expired (its own and its family's limit)
3. scope          never more than the token holds (Authlib's check)
4. rotate         spend it, issue the next of its family; a spent one presented again
                  revokes the family
5. answer         a new chat JWT, ID token and refresh token (:mod:`authserver.grants.user_tokens`)
"""

from __future__ import annotations

import logging

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError

from authserver.grants.user_tokens import Grant, answer
from authserver.models import RefreshToken
from authserver.tokens import refresh
from authserver.tokens.scopes import parse_scope

log = logging.getLogger(__name__)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:               # 2
        ctx = self.request.realm_ctx
        row = refresh.find_refresh_token(ctx, refresh_token)
        if row is None or row.revoked_at is not None:
            return None
        if row.used_at is not None:
            log.warning("refresh token reused for client %s: revoking its family", row.client_id)
            refresh.revoke_family(ctx, row.family)
            return None
        now = ctx.now()
        return row if row.expires_at > now and row.family_expires_at > now else None

    def create_token_response(self):
        ctx, client, row = self.request.realm_ctx, self.request.client, self.request.refresh_token
        if not refresh.spend(ctx, row):                                                           # 4
            refresh.revoke_family(ctx, row.family)
            raise InvalidGrantError(description="The refresh token was already used.")
        scopes = parse_scope(self.request.form.get("scope")) or list(row.scopes)
        answered = answer(ctx, client, Grant(user_pk=row.user_pk, scopes=scopes, audience=row.audience,    # 5
                                             auth_time=row.auth_time, browser_sid=row.browser_sid,
                                             idp_name=row.idp_name), previous=row)
        return 200, answered.body, self.TOKEN_RESPONSE_HEADER

    def authenticate_user(self, refresh_token):  # the user is read fresh in user_tokens.answer
        return refresh_token.user_pk

    def revoke_old_credential(self, refresh_token):  # spent in create_token_response
        pass
