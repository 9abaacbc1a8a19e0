"""``authserver audit``: the realm's audit log of admin changes, newest first."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from authserver.cli.options import realm_option
from authserver.cli.output import emit, json_option
from authserver.registry import audit as service
from authserver.registry.realms import get_realm

COLUMNS = ("id", "at", "actor", "action", "target_type", "target_id")


@click.command("audit")
@with_appcontext
@realm_option
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True,
              help="Most recent events to show.")
@json_option
def audit_command(realm: str, limit: int, as_json: bool) -> None:
    """Show who changed what, and when (before/after, never secrets)."""
    events = service.list_events(get_realm(realm), limit)
    emit([event.to_dict() for event in events], as_json, COLUMNS)
