"""RFC 6749 §4.4 client credentials grant: service tokens (RFC 9068 ``at+jwt``).

Without ``audience``/``resource`` the token is for this realm's own APIs (``aud`` = the
issuer; e.g. the admin API with scope ``admin``); with one, for that chat backend.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from flask import g

from authserver.tokens.audience import requested_target, resolve_backend
from authserver.tokens.scopes import grant_scopes
from authserver.tokens.signing import issue_service_token


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        target = requested_target(self.request.form)
        client = self.request.client
        if target is None or target == g.realm_issuer:
            self.audience, self.ttl = g.realm_issuer, None
            self.scopes = grant_scopes(self.request.payload.scope, client.scopes, None)
        else:
            backend = resolve_backend(g.realm, client, target)
            self.audience, self.ttl = backend.audience, backend.token_ttl
            self.scopes = grant_scopes(self.request.payload.scope, client.scopes,
                                       backend.scopes, backend.default_scopes)

    def create_token_response(self):
        from flask import current_app

        ttl = self.ttl or current_app.config["DEFAULT_TOKEN_LIFETIME"]
        token = issue_service_token(g.realm.name, g.realm_issuer, self.request.client.client_id,
                                    self.audience, self.scopes, ttl)
        return 200, token, self.TOKEN_RESPONSE_HEADER
