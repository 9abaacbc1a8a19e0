"""RFC 7009 token revocation by the token's holder (the client it was issued to).

Any token the server does not recognise is answered with 200 as §2.2 requires; a token
issued to another client is refused.
"""

from __future__ import annotations

from authlib.oauth2.rfc7009 import RevocationEndpoint
from flask import Blueprint, current_app, g

from authserver.edge.realm_binding import bind_realm
from authserver.tokens.issued import IssuedToken, parse_issued_token
from authserver.tokens.revocation import revoke_token

blueprint = Blueprint("revocation", __name__, url_prefix="/realms/<realm>")
blueprint.url_value_preprocessor(bind_realm)


class TokenRevocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]
    SUPPORTED_TOKEN_TYPES = ("access_token",)

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        return parse_issued_token(g.realm, g.realm_issuer, token_string)

    def revoke_token(self, token: IssuedToken, request) -> None:
        revoke_token(token.claims)


@blueprint.post("/revoke")
def revoke():
    return current_app.extensions["authserver.oauth2"].create_endpoint_response("revocation")
