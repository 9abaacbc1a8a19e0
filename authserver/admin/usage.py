"""Admin API: monthly active users, as ``authserver usage``."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from authserver.admin import admin_required
from authserver.registry.realms import get_realm
from authserver.tokens import usage as service

blueprint = Blueprint("usage", __name__, url_prefix="/realms/<realm>/usage")


@blueprint.get("")
@admin_required
def usage_report(realm: str):
    return jsonify(service.report(get_realm(realm), request.args.get("month")))
