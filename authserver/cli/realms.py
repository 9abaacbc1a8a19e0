"""``authserver realms``: create and list realms."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from authserver.cli.options import ACTOR
from authserver.cli.output import emit, json_option
from authserver.registry import realms as service

realms = AppGroup("realms", help="Manage realms (one per chat application).")
COLUMNS = ("name", "created_at")


@realms.command("create")
@click.argument("name")
@click.option("--alg", type=click.Choice(["ES256", "RS256", "EdDSA"]), default=None,
              help="Algorithm of the first signing key.")
@json_option
def create(name: str, alg: str | None, as_json: bool) -> None:
    """Create realm NAME with an active signing key."""
    realm = service.create_realm(name, alg, ACTOR)
    emit(realm.to_dict(), as_json, COLUMNS)


@realms.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List realms."""
    emit([realm.to_dict() for realm in service.list_realms()], as_json, COLUMNS)
