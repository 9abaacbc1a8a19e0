"""RFC 6749 §3.2 token endpoint: every grant the server registered answers here."""

from __future__ import annotations

from flask import Blueprint, current_app

from authserver.browser.cors import allow_registered_origin
from authserver.edge.realm_binding import bind_realm

blueprint = Blueprint("token", __name__, url_prefix="/realms/<realm>")
blueprint.url_value_preprocessor(bind_realm)
blueprint.after_request(allow_registered_origin)  # a browser app redeems its code (CORS)


@blueprint.post("/token")
def token():
    return current_app.extensions["authserver.oauth2"].create_token_response()
