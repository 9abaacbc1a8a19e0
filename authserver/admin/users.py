"""Admin API: chat users, as ``authserver users`` (list, show, disable, enable, revoke-tokens,
delete)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from authserver.admin import actor, admin_required, json_body
from authserver.admin.paging import PAGE_QUERY, filters, listed, page_args
from authserver.console.access import role_view, set_console_role
from authserver.errors import InvalidInput
from authserver.identity import users as service
from authserver.registry import validation
from authserver.registry.realms import get_realm
from authserver.tokens.revocation import revoke_user_tokens

blueprint = Blueprint("users", __name__, url_prefix="/realms/<realm>/users")


FILTERS = ("user_id", "email", "_id", "state")


@blueprint.get("")
@admin_required(query=(*PAGE_QUERY, *FILTERS))
def list_users(realm: str):
    given = filters(*FILTERS)
    page = service.list_users(get_realm(realm), **page_args(service.DEFAULT_LIMIT, service.MAX_LIMIT),
                              uid=given.pop("_id"), **given)
    return listed(page)


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


@blueprint.put("/<user>/console-role")
@admin_required
def console_role(realm: str, user: str):
    data = validation.only_fields(json_body(), {"role"}, "console-role")
    if "role" not in data:
        raise InvalidInput("role: required (admin, viewer, or null)")
    return jsonify(role_view(set_console_role(realm, user, data["role"], actor())))
