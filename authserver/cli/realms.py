"""``authserver realms``: create, list, show, update and delete realms."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from authserver.cli.dispatch import admin_call, admin_list
from authserver.cli.options import ACTOR, given, page_options
from authserver.cli.output import emit, emit_page, json_option
from authserver.errors import InvalidInput
from authserver.models import Realm
from authserver.registry import realms as service

realms = AppGroup("realms", help="Manage realms (one per chat application).")
COLUMNS = ("name", "display_name", "created_at")
name_argument = click.argument("name")


def _path(name: str) -> str:
    return f"/realms/{name}"


@realms.command("create")
@name_argument
@click.option("--alg", type=click.Choice(["ES256", "RS256", "EdDSA"]), default=None,
              help="Algorithm of the first signing key.")
@json_option
def create(name: str, alg: str | None, as_json: bool) -> None:
    """Create realm NAME with an active signing key."""
    realm = admin_call("POST", "/realms", lambda: service.create_realm(name, alg, ACTOR).to_dict(),
                       body=given(name=name, alg=alg))
    emit(realm, as_json, COLUMNS)


@realms.command("list")
@page_options()
@json_option
def list_(limit: int, cursor: str | None, as_json: bool) -> None:
    """List realms, by name."""
    page = admin_list("/realms", lambda: service.list_realms(limit, cursor).map(Realm.to_dict),
                      {"limit": limit, "cursor": cursor})
    emit_page(page, as_json, COLUMNS)


@realms.command("show")
@name_argument
@json_option
def show(name: str, as_json: bool) -> None:
    """Show realm NAME and how many clients, backends, IdPs, users and webhooks it holds."""
    emit(_shown(name), as_json)


def _shown(name: str) -> dict:
    return admin_call("GET", _path(name), lambda: service.show_realm(name))


@realms.command("update")
@name_argument
@click.option("--display-name", help='A name for people ("" removes it).')
@json_option
def update(name: str, display_name: str | None, as_json: bool) -> None:
    """Change the fields given."""
    data = {} if display_name is None else {"display_name": display_name or None}
    realm = admin_call("PATCH", _path(name), lambda: service.update_realm(name, data, ACTOR).to_dict(), body=data)
    emit(realm, as_json)


@realms.command("delete")
@name_argument
@click.option("--yes", is_flag=True, help="Confirm: delete the realm and everything in it.")
@json_option
def delete(name: str, yes: bool, as_json: bool) -> None:
    """Delete realm NAME with every key, client, backend, IdP, user, usage row, audit entry,
    event and webhook it holds (recorded in ADMIN_REALM's audit log)."""
    held = _shown(name)
    if not yes and not held["admin_realm"]:  # ADMIN_REALM: the server's refusal, with or without
        counts = ", ".join(f"{n} {noun}" for noun, n in sorted(held["counts"].items()))
        raise InvalidInput(f"realm {name!r} holds {counts}: add --yes to delete it and all of that")
    admin_call("DELETE", _path(name), lambda: service.delete_realm(name, ACTOR))
    emit({"deleted": name, "counts": held["counts"]}, as_json)
