"""Admin API: monthly active users, as ``authserver usage``."""

from __future__ import annotations

from flask import Blueprint, jsonify

from authserver.admin import admin_required, query_str
from authserver.registry.realms import get_realm
from authserver.state import app_state
from authserver.tokens import usage as service

blueprint = Blueprint("usage", __name__, url_prefix="/realms/<realm>/usage")


@blueprint.get("")
@admin_required(query=("month",))
def usage_report(realm: str):
    return jsonify(service.report(get_realm(realm), query_str("month"), app_state().clock()))
