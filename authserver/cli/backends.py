"""``authserver backends``: a realm's chat backends (resource servers).

Thin wrappers over :mod:`authserver.registry.backends`, the functions the admin API calls too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

import click
from flask.cli import AppGroup

from authserver.cli.dispatch import admin_call, admin_list, realm_path
from authserver.cli.options import ACTOR, given, page_options, read_json_file, realm_option
from authserver.cli.output import emit, emit_page, json_option
from authserver.errors import InvalidInput
from authserver.models import ChatBackend
from authserver.registry import backends as service
from authserver.registry.realms import get_realm

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
        click.option("--credential", "credential_text", metavar="JSON|@FILE|@-",
                     help="The profile's vendor credential: a JSON object, @FILE, or @- for "
                          "stdin. Stored encrypted, never shown again."),
        click.option("--ttl", "token_ttl", type=int, help="Token lifetime, seconds."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def backend_data(acl_template_file: str | None = None, credential_text: str | None = None,
                 **fields) -> dict:
    data = given(**fields)
    if acl_template_file is not None:
        data["acl_template"] = read_json_file(acl_template_file, "--acl-template")
    if credential_text is not None:
        data["credential"] = read_credential(credential_text)
    return data


def read_credential(text: str):
    """``--credential``: inline JSON, ``@FILE`` or ``@-`` (stdin). Errors never quote it."""
    if text == "@-":
        text = sys.stdin.read()
    elif text.startswith("@"):
        return read_json_file(text[1:], "--credential")
    try:
        return json.loads(text)
    except ValueError:
        raise InvalidInput("--credential: not valid JSON (give a JSON object, @FILE or @-)") from None


@backends.command("create")
@realm_option
@click.option("--audience", required=True, help="The audience (JWT aud) identifying the backend.")
@field_options
@json_option
def create(realm: str, as_json: bool, **fields) -> None:
    """Register a chat backend."""
    data = backend_data(**fields)
    emit_described(admin_call("POST", realm_path(realm, "backends"), lambda: service.describe_backend(
        service.create_backend(get_realm(realm), data, ACTOR)), body=data), as_json)


@backends.command("list")
@realm_option
@page_options()
@click.option("--profile", help="Only backends of this token profile.")
@json_option
def list_(realm: str, limit: int, cursor: str | None, profile: str | None, as_json: bool) -> None:
    """List the realm's chat backends, by audience."""
    page = admin_list(realm_path(realm, "backends"), lambda: service.list_backends(
        get_realm(realm), limit, cursor, profile=profile).map(ChatBackend.to_dict),
        {"limit": limit, "cursor": cursor, "profile": profile})
    emit_page(page, as_json, COLUMNS)


@backends.command("show")
@realm_option
@audience_argument
@json_option
def show(realm: str, audience: str, as_json: bool) -> None:
    """Show one chat backend, with its profile's public facts (never the credential)."""
    emit_described(admin_call("GET", realm_path(realm, "backends", audience), lambda: service.describe_backend(
        service.get_backend(get_realm(realm), audience))), as_json)


def emit_described(data: dict, as_json: bool) -> None:
    """``describe_backend()``; as text, multi-line public facts (a PEM, the ``jwt_config``
    snippet) are printed as blocks, ready to paste."""
    if as_json:
        emit(data, True)
        return
    info = data.pop("profile_info", None) or {}
    emit(data, False)
    for key, value in sorted(info.items()):  # as the admin API sends them: the same text either way
        if isinstance(value, str) and "\n" in value:
            block = "".join(f"  {line}\n" for line in value.strip().splitlines())
            click.echo(f"{key}: |\n{block}", nl=False)
        else:
            emit({key: value}, False)


@backends.command("update")
@realm_option
@audience_argument
@field_options
@click.option("--rotate-key", is_flag=True, default=None,
              help="Profiles with a server-generated key (matrix): replace the key, keep the "
                   "other credential settings; prints the new public facts.")
@json_option
def update(realm: str, audience: str, as_json: bool, **fields) -> None:
    """Change the fields given."""
    data = backend_data(**fields)
    emit_described(admin_call("PATCH", realm_path(realm, "backends", audience), lambda: service.describe_backend(
        service.update_backend(get_realm(realm), audience, data, ACTOR)), body=data), as_json)


@backends.command("delete")
@realm_option
@audience_argument
@json_option
def delete(realm: str, audience: str, as_json: bool) -> None:
    """Delete a chat backend no client targets any more."""
    admin_call("DELETE", realm_path(realm, "backends", audience),
               lambda: service.delete_backend(get_realm(realm), audience, ACTOR))
    emit({"deleted": audience}, as_json)
