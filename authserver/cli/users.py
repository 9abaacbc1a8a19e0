"""``authserver users``: list, show, disable, enable, revoke the tokens of, and delete chat users."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from authserver.cli.options import ACTOR, realm_option
from authserver.cli.output import emit, json_option
from authserver.identity import users as service
from authserver.registry.realms import get_realm

users = AppGroup("users", help="Manage chat users.")
COLUMNS = ("_id", "user_id", "state", "verified", "name", "email", "workspaces")
user_argument = click.argument("user")


@users.command("list")
@realm_option
@click.option("--limit", type=click.IntRange(1, 100000), default=1000, show_default=True)
@json_option
def list_(realm, limit, as_json):
    """List users."""
    emit([u.to_dict() for u in service.list_users(get_realm(realm), limit)], as_json, COLUMNS)


@users.command("show")
@realm_option
@user_argument
@json_option
def show(realm, user, as_json):
    """Show USER (its _id or user_id)."""
    emit(service.get_user(get_realm(realm), user).to_dict(), as_json, None)


@users.command("disable")
@realm_option
@user_argument
@json_option
def disable(realm, user, as_json):
    """Disable USER: no further tokens."""
    emit(service.set_user_disabled(get_realm(realm), user, True, ACTOR).to_dict(), as_json, None)


@users.command("enable")
@realm_option
@user_argument
@json_option
def enable(realm, user, as_json):
    """Enable USER again."""
    emit(service.set_user_disabled(get_realm(realm), user, False, ACTOR).to_dict(), as_json, None)


@users.command("revoke-tokens")
@realm_option
@user_argument
@json_option
def revoke_tokens(realm, user, as_json):
    """Log USER out everywhere: every token issued until now stops working."""
    from authserver.tokens.revocation import revoke_user_tokens

    emit(revoke_user_tokens(get_realm(realm), user, ACTOR).to_dict(), as_json, None)


@users.command("delete")
@realm_option
@user_argument
@json_option
def delete(realm, user, as_json):
    """Erase USER: its identity links and device sessions go, its usage keeps only counts; the
    same upstream account logging in again becomes a new user. Publishes user.deleted."""
    service.delete_user(get_realm(realm), user, ACTOR)
    emit({"deleted": user}, as_json)
