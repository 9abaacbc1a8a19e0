"""Admin API: RFC 7591 §3 initial access tokens, as ``authserver clients initial-token``."""

from __future__ import annotations

from flask import Blueprint, jsonify

from authserver.admin import actor, admin_required, json_body
from authserver.registry import registration, validation
from authserver.registry.realms import get_realm

blueprint = Blueprint("initial_tokens", __name__, url_prefix="/realms/<realm>/initial-tokens")


@blueprint.post("")
@admin_required
def create_initial_token(realm: str):
    data = validation.only_fields(json_body(optional=True), {"ttl"}, "initial token")
    token = registration.create_initial_token(get_realm(realm), data.get("ttl"), actor())
    return jsonify(token), 201, {"Cache-Control": "no-store"}
