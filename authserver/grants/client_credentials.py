"""RFC 6749 §4.4 client credentials grant: service tokens (RFC 9068 ``at+jwt``).

Without ``audience``/``resource`` the token is for this realm's own APIs (``aud`` = the
issuer; e.g. the admin API with scope ``admin``); with one, for that chat backend.

1. parse           ``scope`` (strict) and ``audience``/``resource``
2. authenticate    the client (confidential only), allowed this grant
3. resolve the target the realm itself, or a chat backend the client may target
4. grant scopes    requested ∩ client's (∩ backend's)
5. sign, answer    :func:`authserver.tokens.issuance.issue`
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import UnauthorizedClientError

from authserver.tokens.audience import requested_target, resolve_backend
from authserver.tokens.issuance import Issuance, issue
from authserver.tokens.scopes import grant_scopes, parse_scope


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]

    def validate_token_request(self) -> None:
        ctx = self.request.realm_ctx
        requested, target = parse_scope(self.request.form.get("scope")), requested_target(self.request.form)  # 1
        client = self.authenticate_token_endpoint_client()                                     # 2
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError(description="The client may not use client credentials.")
        self.request.client = client
        if target is None or target == ctx.issuer:                                             # 3
            self.audience, self.ttl = ctx.issuer, ctx.settings.default_token_lifetime
            self.scopes = grant_scopes(requested, client.scopes, None)                         # 4
        else:
            backend = resolve_backend(ctx.realm, client, target)
            self.audience, self.ttl = backend.audience, backend.token_ttl
            self.scopes = grant_scopes(requested, client.scopes, backend.scopes, backend.default_scopes)

    def create_token_response(self):
        ctx = self.request.realm_ctx
        issued = issue(ctx, Issuance(client=self.request.client, audience=self.audience,           # 5
                                     scopes=self.scopes, ttl=self.ttl))
        return 200, issued.bearer_response(), self.TOKEN_RESPONSE_HEADER
