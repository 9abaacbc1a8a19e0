"""RFC 7662 token introspection, for authenticated clients (chat backends).

``active: false`` for anything expired, revoked, of another realm, of a disabled or
merged user or a disabled client, and for anything unparseable; otherwise the claims.
"""

from __future__ import annotations

from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Blueprint, current_app, g

from authserver.edge.realm_binding import bind_realm
from authserver.tokens.issued import IssuedToken, parse_issued_token

blueprint = Blueprint("introspection", __name__, url_prefix="/realms/<realm>")
blueprint.url_value_preprocessor(bind_realm)


class TokenIntrospection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        return parse_issued_token(g.realm, g.realm_issuer, token_string)

    def check_permission(self, token: IssuedToken, client, request) -> bool:
        return True  # every authenticated client of this realm may ask

    def introspect_token(self, token: IssuedToken) -> dict:
        return {"active": True, "token_type": "Bearer", **token.claims}


@blueprint.post("/introspect")
def introspect():
    return current_app.extensions["authserver.oauth2"].create_endpoint_response("introspection")
