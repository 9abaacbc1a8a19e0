"""Admin API: a realm's signing keys (RFC 7517), as ``authserver keys``."""

from __future__ import annotations

from flask import Blueprint, jsonify

from authserver.admin import actor, admin_required, json_body, signing_alg
from authserver.admin.paging import PAGE_QUERY, filters, listed, page_args
from authserver.registry import validation
from authserver.registry.realms import get_realm
from authserver.state import app_state

blueprint = Blueprint("keys", __name__, url_prefix="/realms/<realm>/keys")


@blueprint.get("")
@admin_required(query=(*PAGE_QUERY, "state"))
def list_keys(realm: str):
    svc, realm_row = app_state().keys, get_realm(realm)
    svc.maintain(realm_row)
    return listed(svc.page_keys(realm_row, **page_args(), **filters("state")))


@blueprint.post("/rotate")
@admin_required
def rotate(realm: str):
    data = validation.only_fields(json_body(optional=True), {"alg"}, "key rotation")
    return jsonify(app_state().keys.rotate(get_realm(realm), signing_alg(data), actor()).to_dict()), 201


@blueprint.post("/<kid>/retire-now")
@admin_required
def retire_now(realm: str, kid: str):
    return jsonify(app_state().keys.retire_now(get_realm(realm), kid, actor()))


@blueprint.post("/cancel-rotation")
@admin_required
def cancel_rotation(realm: str):
    return jsonify(app_state().keys.cancel_rotation(get_realm(realm), actor()))
