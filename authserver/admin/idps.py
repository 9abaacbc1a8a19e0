"""Admin API: identity provider connections, as ``authserver idps``."""

from __future__ import annotations

from flask import Blueprint, jsonify

from authserver.admin import actor, admin_required, json_body
from authserver.admin.paging import PAGE_QUERY, filters, listed, page_args
from authserver.registry import idps as service
from authserver.registry.realms import get_realm

blueprint = Blueprint("idps", __name__, url_prefix="/realms/<realm>/idps")


NO_STORE = {"Cache-Control": "no-store"}  # the answer may carry the secret, shown once


def _issued(idp, secret):
    data = idp.to_dict()
    if secret:
        data["shared_secret"] = secret  # generated now, shown once
    return data


FILTERS = ("type", "disabled")


@blueprint.get("")
@admin_required(query=(*PAGE_QUERY, *FILTERS))
def list_idps(realm: str):
    return listed(service.list_idps(get_realm(realm), **page_args(), **filters(*FILTERS)))


@blueprint.post("")
@admin_required
def create_idp(realm: str):
    return jsonify(_issued(*service.create_idp(get_realm(realm), json_body(), actor()))), 201, NO_STORE


@blueprint.get("/<name>")
@admin_required
def show_idp(realm: str, name: str):
    return jsonify(service.get_idp(get_realm(realm), name).to_dict())


@blueprint.patch("/<name>")
@admin_required
def update_idp(realm: str, name: str):
    return jsonify(_issued(*service.update_idp(get_realm(realm), name, json_body(), actor()))), 200, NO_STORE


@blueprint.delete("/<name>")
@admin_required
def delete_idp(realm: str, name: str):
    service.delete_idp(get_realm(realm), name, actor())
    return "", 204


@blueprint.post("/<name>/test")
@admin_required
def test_idp(realm: str, name: str):
    """"Test connection": what the connection fetches from its upstream, fetched now."""
    return jsonify(service.test_connection(get_realm(realm), name))
