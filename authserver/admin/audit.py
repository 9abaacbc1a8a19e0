"""Admin API: the audit log of a realm, as ``authserver audit``."""

from __future__ import annotations

from flask import Blueprint, jsonify

from authserver.admin import admin_required, query_int
from authserver.registry import audit as service
from authserver.registry.realms import get_realm

blueprint = Blueprint("audit", __name__, url_prefix="/realms/<realm>/audit")
MAX_LIMIT = 1000


@blueprint.get("")
@admin_required(query=("limit",))
def list_events(realm: str):
    limit = query_int("limit", 100, 1, MAX_LIMIT)
    return jsonify([event.to_dict() for event in service.list_events(get_realm(realm), limit)])
