"""``authserver backends``: a realm's chat backends (resource servers).

Thin wrappers over :mod:`authserver.backends`, the functions the admin API calls too.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from flask.cli import AppGroup

from authserver import backends as service
from authserver.cli.options import ACTOR, given, read_json_file, realm_option
from authserver.cli.output import emit, json_option
from authserver.realms import get_realm

backends = AppGroup("backends", help="Manage a realm's chat backends (token audiences).")
COLUMNS = ("audience", "scopes", "default_scopes", "profile", "token_ttl")
audience_argument = click.argument("audience")


def field_options(command: Callable) -> Callable:
    options = [
        click.option("--scopes", help='Scopes the backend understands, space-separated: "a b".'),
        click.option("--default-scopes", help="Scopes granted when a client asks for none."),
        click.option("--acl-template", "acl_template_file", type=click.Path(dir_okay=False),
                     help="JSON file: [{path, methods, filters}] with {user_id}/{uid} placeholders."),
        click.option("--profile", help="Token profile (default: native)."),
        click.option("--ttl", "token_ttl", type=int, help="Token lifetime, seconds."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def backend_data(acl_template_file: str | None = None, **fields) -> dict:
    data = given(**fields)
    if acl_template_file is not None:
        data["acl_template"] = read_json_file(acl_template_file, "--acl-template")
    return data


@backends.command("create")
@realm_option
@click.option("--audience", required=True, help="The audience (JWT aud) identifying the backend.")
@field_options
@json_option
def create(realm: str, as_json: bool, **fields) -> None:
    """Register a chat backend."""
    emit(service.create_backend(get_realm(realm), backend_data(**fields), ACTOR).to_dict(), as_json)


@backends.command("list")
@realm_option
@json_option
def list_(realm: str, as_json: bool) -> None:
    """List the realm's chat backends."""
    emit([b.to_dict() for b in service.list_backends(get_realm(realm))], as_json, COLUMNS)


@backends.command("show")
@realm_option
@audience_argument
@json_option
def show(realm: str, audience: str, as_json: bool) -> None:
    """Show one chat backend."""
    emit(service.get_backend(get_realm(realm), audience).to_dict(), as_json)


@backends.command("update")
@realm_option
@audience_argument
@field_options
@json_option
def update(realm: str, audience: str, as_json: bool, **fields) -> None:
    """Change the fields given."""
    backend = service.update_backend(get_realm(realm), audience, backend_data(**fields), ACTOR)
    emit(backend.to_dict(), as_json)


@backends.command("delete")
@realm_option
@audience_argument
@json_option
def delete(realm: str, audience: str, as_json: bool) -> None:
    """Delete a chat backend no client targets any more."""
    service.delete_backend(get_realm(realm), audience, ACTOR)
    emit({"deleted": audience}, as_json)
