"""``authserver users``: list, show, disable, enable, revoke the tokens of, and delete chat users."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from authserver.cli.dispatch import admin_call, admin_list, realm_path
from authserver.cli.options import ACTOR, page_options, realm_option
from authserver.cli.output import emit, emit_page, json_option
from authserver.console.access import role_view, set_console_role
from authserver.identity import users as service
from authserver.models import User
from authserver.models.console import CONSOLE_ROLES
from authserver.registry.realms import get_realm
from authserver.tokens.revocation import revoke_user_tokens

users = AppGroup("users", help="Manage chat users.")
COLUMNS = ("_id", "user_id", "state", "verified", "name", "email", "workspaces")
user_argument = click.argument("user")


@users.command("list")
@realm_option
@page_options(service.DEFAULT_LIMIT, service.MAX_LIMIT)
@click.option("--user-id", help="Only the user with this user_id.")
@click.option("--email", help="Only users with this email (in any case).")
@click.option("--id", "uid", metavar="_ID", help="Only the user with this _id.")
@click.option("--state", type=click.Choice(service.STATES), help="Only users in this state.")
@json_option
def list_(realm, limit, cursor, user_id, email, uid, state, as_json):
    """List users, oldest first."""
    page = admin_list(realm_path(realm, "users"), lambda: service.list_users(
        get_realm(realm), limit, cursor, user_id=user_id, email=email, uid=uid, state=state).map(User.to_dict),
        {"limit": limit, "cursor": cursor, "user_id": user_id, "email": email, "_id": uid, "state": state})
    emit_page(page, as_json, COLUMNS)


@users.command("show")
@realm_option
@user_argument
@json_option
def show(realm, user, as_json):
    """Show USER (its _id or user_id)."""
    emit(admin_call("GET", realm_path(realm, "users", user),
                    lambda: service.get_user(get_realm(realm), user).to_dict()), as_json, None)


def _toggle(verb: str, disabled: bool):
    def command(realm, user, as_json):
        emit(admin_call("POST", realm_path(realm, "users", user, verb),
                        lambda: service.set_user_disabled(get_realm(realm), user, disabled, ACTOR).to_dict()),
             as_json, None)
    return command


users.command("disable", help="Disable USER: no further tokens.")(
    realm_option(user_argument(json_option(_toggle("disable", True)))))
users.command("enable", help="Enable USER again.")(
    realm_option(user_argument(json_option(_toggle("enable", False)))))


@users.command("revoke-tokens")
@realm_option
@user_argument
@json_option
def revoke_tokens(realm, user, as_json):
    """Log USER out everywhere: every token issued until now stops working."""
    emit(admin_call("POST", realm_path(realm, "users", user, "revoke-tokens"),
                    lambda: revoke_user_tokens(get_realm(realm), user, ACTOR).to_dict()), as_json, None)


@users.command("delete")
@realm_option
@user_argument
@json_option
def delete(realm, user, as_json):
    """Erase USER: its identity links and device sessions go, its usage keeps only counts; the
    same upstream account logging in again becomes a new user. Publishes user.deleted."""
    admin_call("DELETE", realm_path(realm, "users", user), lambda: service.delete_user(get_realm(realm), user, ACTOR))
    emit({"deleted": user}, as_json)


@users.command("set-console-role")
@realm_option
@user_argument
@click.argument("role", type=click.Choice([*CONSOLE_ROLES, "none"]))
@json_option
def set_role(realm, user, role, as_json):
    """Let USER (of ADMIN_REALM) into the admin console as ROLE: admin changes things, viewer
    only reads, none: no console access."""
    wanted = None if role == "none" else role
    emit(admin_call("PUT", realm_path(realm, "users", user, "console-role"),
                    lambda: role_view(set_console_role(realm, user, wanted, ACTOR)), body={"role": wanted}),
         as_json, ("_id", "user_id", "console_role"))
