"""RFC 7662 token introspection, for the clients that serve a token's audience.

Only a client that serves the token's chat backend (``serves``: a chat backend's own
client, or one an admin allows) learns anything (§2.1, §4); every other caller — and
anything expired, revoked, of another realm, of a disabled or merged user or a disabled
client, or unparseable — gets ``{"active": false}``. ``token_type_hint`` is only a hint
(§2.1): an unknown or wrong one is ignored.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Blueprint, current_app

from authserver.edge.realm_binding import bind_realm
from authserver.tokens.access_tokens import IssuedToken, parse_issued_token

blueprint = Blueprint("introspection", __name__, url_prefix="/realms/<realm>")
blueprint.url_value_preprocessor(bind_realm)


class TokenIntrospection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]

    def authenticate_token(self, request, client) -> IssuedToken | None:
        if "token" not in request.form:
            raise InvalidRequestError(description="The token parameter is required.")
        token = request.form["token"]
        issued = parse_issued_token(request.realm_ctx, token)
        if issued is None or not self.check_permission(issued, client, request):
            return None
        return issued

    def check_permission(self, token: IssuedToken, client, request) -> bool:
        return token.claims.get("aud") in (client.serves or [])

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        raise NotImplementedError  # authenticate_token reads the token itself

    def introspect_token(self, token: IssuedToken) -> dict:
        return {"active": True, "token_type": "Bearer", **token.claims}


@blueprint.post("/introspect")
def introspect():
    return current_app.extensions["authserver.oauth2"].create_endpoint_response("introspection")
