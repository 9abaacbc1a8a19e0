"""RFC 6749 §4.1.3 authorization code grant, with PKCE (RFC 7636, S256, required for every
client) — Authlib's grant class, over our codes (:mod:`authserver.browser.store`).

1. authenticate   the client as registered (public clients: ``client_id`` + the verifier)
2. the code       ours, this client's, unexpired, unused; ``redirect_uri`` identical
3. PKCE           ``code_verifier`` against the stored S256 challenge (Authlib's CodeChallenge)
4. spend          once, across processes; a replayed code revokes what it issued (§4.1.2)
5. answer         chat JWT + ID token (+ refresh token): :mod:`authserver.grants.user_tokens`
"""

from __future__ import annotations

import logging

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from authlib.oauth2.rfc7636 import CodeChallenge

from authserver.browser import store
from authserver.extensions import db
from authserver.grants.user_tokens import Grant, answer
from authserver.models import AuthorizationCode, Client
from authserver.tokens import refresh
from authserver.tokens.revocation import revoke_token

log = logging.getLogger(__name__)


class RequiredS256(CodeChallenge):
    """Every code carries an S256 challenge (checked at ``/authorize``), so the verifier is
    always required, for confidential clients too (RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def get_authorization_code_challenge_method(self, authorization_code):
        return "S256"


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:     # 2
        ctx = self.request.realm_ctx
        if not isinstance(code, str) or len(code) > 256:
            return None
        row = store.find_code(ctx, code)
        if row is None or row.client_id != client.client_id:
            return None
        if row.used_at is not None:
            _revoke_what_it_issued(ctx, row)
            return None
        return row if row.expires_at > ctx.now() else None

    def create_token_response(self):
        ctx, client, code = self.request.realm_ctx, self.request.client, self.request.authorization_code
        if not store.spend(ctx, AuthorizationCode, code):                                         # 4
            _revoke_what_it_issued(ctx, code)
            raise InvalidGrantError(description="The authorization code was already used.")
        answered = answer(ctx, client, Grant(user_pk=code.user_pk, scopes=list(code.scopes),        # 5
                                             audience=code.audience, auth_time=code.auth_time,
                                             browser_sid=code.browser_sid, idp_name=code.idp_name,
                                             nonce=code.nonce))
        _remember_issued(code.id, answered)
        return 200, answered.body, self.TOKEN_RESPONSE_HEADER

    # Authlib asks for these in its authorization-endpoint half, which ours replaces
    # (:mod:`authserver.endpoints.authorize`); the token half needs none of them.
    def save_authorization_code(self, code, request):  # pragma: no cover - not used
        raise NotImplementedError

    def delete_authorization_code(self, authorization_code):  # spent in create_token_response
        pass

    def authenticate_user(self, authorization_code):  # the user is read in user_tokens.answer
        return authorization_code.user_pk


def _remember_issued(code_pk: int, answered) -> None:
    row = db.session.get(AuthorizationCode, code_pk)
    if row is None:
        return
    row.issued_jtis = [answered.access_jti] if answered.access_jti else []
    row.refresh_family = answered.refresh_family
    db.session.commit()


def _revoke_what_it_issued(ctx, code: AuthorizationCode) -> None:
    """RFC 6749 §4.1.2: a code used twice revokes the tokens issued from it."""
    log.warning("authorization code replayed for client %s: revoking what it issued", code.client_id)
    for issued in code.issued_jtis or []:
        revoke_token({"iss": ctx.issuer, "jti": issued["jti"], "exp": issued["exp"]})
    if code.refresh_family:
        refresh.revoke_family(ctx, code.refresh_family)
