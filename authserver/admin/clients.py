"""Admin API: clients of a realm (RFC 6749 §2), the same operations as ``authserver clients``."""

from __future__ import annotations

from flask import Blueprint, jsonify

from authserver.admin import actor, admin_required, json_body
from authserver.admin.paging import PAGE_QUERY, filters, listed, page_args
from authserver.registry import clients as service
from authserver.registry import validation
from authserver.registry.realms import get_realm
from authserver.tokens.revocation import revoke_client_tokens

blueprint = Blueprint("clients", __name__, url_prefix="/realms/<realm>/clients")


FILTERS = ("auth_method", "disabled")


@blueprint.get("")
@admin_required(query=(*PAGE_QUERY, *FILTERS))
def list_clients(realm: str):
    return listed(service.list_clients(get_realm(realm), **page_args(), **filters(*FILTERS)))


@blueprint.post("")
@admin_required
def create_client(realm: str):
    issued = service.create_client(get_realm(realm), json_body(), actor())
    return jsonify(issued.to_dict()), 201, {"Cache-Control": "no-store"}


@blueprint.get("/<client_id>")
@admin_required
def show_client(realm: str, client_id: str):
    return jsonify(service.get_client(get_realm(realm), client_id).to_dict())


@blueprint.patch("/<client_id>")
@admin_required
def update_client(realm: str, client_id: str):
    client = service.update_client(get_realm(realm), client_id, json_body(), actor())
    return jsonify(client.to_dict())


@blueprint.delete("/<client_id>")
@admin_required
def delete_client(realm: str, client_id: str):
    service.delete_client(get_realm(realm), client_id, actor())
    return "", 204


@blueprint.post("/<client_id>/rotate-secret")
@admin_required
def rotate_secret(realm: str, client_id: str):
    data = validation.only_fields(json_body(optional=True), {"grace_seconds"}, "rotate-secret")
    issued = service.rotate_secret(get_realm(realm), client_id, actor(), data.get("grace_seconds", 0))
    return jsonify(issued.to_dict()), 200, {"Cache-Control": "no-store"}


@blueprint.post("/<client_id>/disable")
@admin_required
def disable_client(realm: str, client_id: str):
    return jsonify(service.set_disabled(get_realm(realm), client_id, True, actor()).to_dict())


@blueprint.post("/<client_id>/enable")
@admin_required
def enable_client(realm: str, client_id: str):
    return jsonify(service.set_disabled(get_realm(realm), client_id, False, actor()).to_dict())


@blueprint.post("/<client_id>/revoke-tokens")
@admin_required
def revoke_tokens(realm: str, client_id: str):
    return jsonify(revoke_client_tokens(get_realm(realm), client_id, actor()).to_dict())
