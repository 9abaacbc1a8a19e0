"""Admin API: explain an RFC 8693 token exchange, as ``authserver explain``: the steps the
exchange would take and where it would stop, with nothing written (no user, no ``jti``
spent, no usage, no event, no audit entry)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from authserver.admin import admin_required, json_body
from authserver.grants.explain import explain_for
from authserver.registry.realms import get_realm

blueprint = Blueprint("explain", __name__, url_prefix="/realms/<realm>/explain")
NO_STORE = {"Cache-Control": "no-store"}  # the answer holds a user's claims


@blueprint.post("")
@admin_required
def explain_exchange(realm: str):
    return jsonify(explain_for(get_realm(realm), json_body())), 200, NO_STORE
