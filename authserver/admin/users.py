"""Admin API: chat users, as ``authserver users`` (list, show, disable, enable, revoke-tokens,
delete)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from authserver.admin import actor, admin_required, query_int
from authserver.identity import users as service
from authserver.registry.realms import get_realm
from authserver.tokens.revocation import revoke_user_tokens

blueprint = Blueprint("users", __name__, url_prefix="/realms/<realm>/users")


@blueprint.get("")
@admin_required(query=("limit",))
def list_users(realm: str):
    limit = query_int("limit", 1000, 1, 100000)
    return jsonify([user.to_dict() for user in service.list_users(get_realm(realm), limit)])


@blueprint.get("/<user>")
@admin_required
def show_user(realm: str, user: str):
    return jsonify(service.get_user(get_realm(realm), user).to_dict())


@blueprint.post("/<user>/disable")
@admin_required
def disable_user(realm: str, user: str):
    return jsonify(service.set_user_disabled(get_realm(realm), user, True, actor()).to_dict())


@blueprint.post("/<user>/enable")
@admin_required
def enable_user(realm: str, user: str):
    return jsonify(service.set_user_disabled(get_realm(realm), user, False, actor()).to_dict())


@blueprint.post("/<user>/revoke-tokens")
@admin_required
def revoke_tokens(realm: str, user: str):
    return jsonify(revoke_user_tokens(get_realm(realm), user, actor()).to_dict())


@blueprint.delete("/<user>")
@admin_required
def delete_user(realm: str, user: str):
    service.delete_user(get_realm(realm), user, actor())
    return "", 204
