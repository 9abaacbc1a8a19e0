"""Admin API: realms (one per chat application). Only tokens of the ADMIN_REALM get here."""

from __future__ import annotations

from flask import Blueprint, jsonify

from authserver.admin import actor, admin_required, json_body, signing_alg
from authserver.admin.paging import PAGE_QUERY, listed, page_args
from authserver.registry import realms as service
from authserver.registry import validation

blueprint = Blueprint("realms", __name__)


@blueprint.get("/realms")
@admin_required(query=PAGE_QUERY)
def list_realms():
    return listed(service.list_realms(**page_args()))


@blueprint.post("/realms")
@admin_required
def create_realm():
    data = validation.only_fields(json_body(), {"name", "alg"}, "realm")
    realm = service.create_realm(data.get("name"), signing_alg(data), actor())
    return jsonify(realm.to_dict()), 201


# ``<realm_name>``, not ``<realm>``: only ADMIN_REALM tokens reach these, as above.
@blueprint.get("/realms/<realm_name>")
@admin_required
def show_realm(realm_name: str):
    return jsonify(service.show_realm(realm_name))


@blueprint.patch("/realms/<realm_name>")
@admin_required
def update_realm(realm_name: str):
    return jsonify(service.update_realm(realm_name, json_body(), actor()).to_dict())


@blueprint.delete("/realms/<realm_name>")
@admin_required
def delete_realm(realm_name: str):
    service.delete_realm(realm_name, actor())
    return "", 204
