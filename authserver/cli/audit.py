"""``authserver audit``: the realm's audit log of admin changes, newest first."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from authserver.cli.dispatch import admin_list, realm_path
from authserver.cli.options import page_options, realm_option
from authserver.cli.output import emit_page, json_option
from authserver.models import AuditEvent
from authserver.registry import audit as service
from authserver.registry.realms import get_realm

COLUMNS = ("id", "at", "actor", "action", "target_type", "target_id")


@click.command("audit")
@with_appcontext
@realm_option
@page_options()
@click.option("--action", help="Only this action (client.create, user.delete, …).")
@click.option("--actor", help="Only changes by this actor (cli, client:<client_id>, …).")
@click.option("--target-type", help="Only changes to this kind of object (client, user, key, …).")
@click.option("--target-id", help="Only changes to this object (its client_id, _id, kid, …).")
@json_option
def audit_command(realm: str, limit: int, cursor: str | None, as_json: bool, **filters: str | None) -> None:
    """Show who changed what, and when (before/after, never secrets), newest first."""
    page = admin_list(realm_path(realm, "audit"), lambda: service.list_events(
        get_realm(realm), limit, cursor, **filters).map(AuditEvent.to_dict),
        {"limit": limit, "cursor": cursor, **filters})
    emit_page(page, as_json, COLUMNS)
