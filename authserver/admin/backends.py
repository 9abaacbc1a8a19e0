"""Admin API: chat backends (resource servers) of a realm, as ``authserver backends``.

An audience may contain ``/`` (it is often a URL): it is the rest of the path.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from authserver.admin import actor, admin_required, json_body
from authserver.admin.paging import PAGE_QUERY, filters, listed, page_args
from authserver.registry import backends as service
from authserver.registry.realms import get_realm

blueprint = Blueprint("backends", __name__, url_prefix="/realms/<realm>/backends")


@blueprint.get("")
@admin_required(query=(*PAGE_QUERY, "profile"))
def list_backends(realm: str):
    return listed(service.list_backends(get_realm(realm), **page_args(), **filters("profile")))


@blueprint.post("")
@admin_required
def create_backend(realm: str):
    backend = service.create_backend(get_realm(realm), json_body(), actor())
    return jsonify(service.describe_backend(backend)), 201


@blueprint.get("/<path:audience>")
@admin_required
def show_backend(realm: str, audience: str):
    return jsonify(service.describe_backend(service.get_backend(get_realm(realm), audience)))


@blueprint.patch("/<path:audience>")
@admin_required
def update_backend(realm: str, audience: str):
    backend = service.update_backend(get_realm(realm), audience, json_body(), actor())
    return jsonify(service.describe_backend(backend))


@blueprint.delete("/<path:audience>")
@admin_required
def delete_backend(realm: str, audience: str):
    service.delete_backend(get_realm(realm), audience, actor())
    return "", 204
