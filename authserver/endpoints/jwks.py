"""RFC 7517 JSON Web Key Set: the realm's ``next``, ``active`` and ``retired`` public keys."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from authserver.state import app_state

blueprint = Blueprint("jwks", __name__)


@blueprint.get("/realms/<realm>/jwks")
def jwks(realm: str):
    response = jsonify(app_state().keys.jwks(realm))
    max_age = current_app.config["JWKS_MAX_AGE"]
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # public metadata, read by browser apps
    return response
