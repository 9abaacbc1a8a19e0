"""RFC 7009 token revocation by the token's holder (the client it was issued to): our
access tokens (their ``jti``), and refresh tokens (their whole family, RFC 7009 §2.1).

Any token the server does not recognise is answered with 200 as §2.2 requires; a token
issued to another client is refused. ``token_type_hint`` is only a hint (§2.1): an unknown
or wrong one is ignored and the token is still found and revoked.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7009 import RevocationEndpoint
from flask import Blueprint, current_app

from authserver.edge.realm_binding import bind_realm
from authserver.models import RefreshToken
from authserver.tokens import refresh
from authserver.tokens.access_tokens import IssuedToken, parse_issued_token
from authserver.tokens.revocation import revoke_token

blueprint = Blueprint("revocation", __name__, url_prefix="/realms/<realm>")
blueprint.url_value_preprocessor(bind_realm)


class TokenRevocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]

    def authenticate_token(self, request, client) -> IssuedToken | None:
        if "token" not in request.form:
            raise InvalidRequestError(description="The token parameter is required.")
        token = request.form["token"]
        issued = parse_issued_token(request.realm_ctx, token) or refresh.find_refresh_token(request.realm_ctx, token)
        if issued is not None and not issued.check_client(client):
            raise InvalidRequestError(description="The token was not issued to this client.")
        return issued

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        raise NotImplementedError  # authenticate_token reads the token itself

    def revoke_token(self, token: IssuedToken | RefreshToken, request) -> None:
        if isinstance(token, RefreshToken):
            refresh.revoke_family(request.realm_ctx, token.family)
        else:
            revoke_token(token.claims)


@blueprint.post("/revoke")
def revoke():
    return current_app.extensions["authserver.oauth2"].create_endpoint_response("revocation")
