"""``authserver keys``: list and rotate a realm's signing keys."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from authserver.cli.options import ACTOR, realm_option
from authserver.cli.output import emit, json_option
from authserver.registry.realms import get_realm
from authserver.state import app_state

keys = AppGroup("keys", help="Manage a realm's signing keys.")
COLUMNS = ("kid", "alg", "state", "created_at", "activates_at", "retired_at", "remove_after")


@keys.command("list")
@realm_option
@json_option
def list_(realm: str, as_json: bool) -> None:
    """List the realm's keys (public facts only)."""
    svc = app_state().keys
    realm_row = get_realm(realm)
    svc.maintain(realm_row)
    emit([key.to_dict() for key in svc.list_keys(realm_row)], as_json, COLUMNS)


@keys.command("rotate")
@realm_option
@click.option("--alg", type=click.Choice(["ES256", "RS256", "EdDSA"]), default=None,
              help="Algorithm of the new key (default: DEFAULT_SIGNING_ALG).")
@json_option
def rotate(realm: str, alg: str | None, as_json: bool) -> None:
    """Add a `next` key: published now, signing after the pre-publication period."""
    key = app_state().keys.rotate(get_realm(realm), alg, ACTOR)
    emit(key.to_dict(), as_json, COLUMNS)
