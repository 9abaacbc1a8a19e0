"""``authserver usage``: unique users per month (how chat vendors bill)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from authserver.cli.dispatch import admin_call, realm_path
from authserver.cli.options import realm_option
from authserver.cli.output import emit_json, emit_table, json_option
from authserver.registry.realms import get_realm
from authserver.state import app_state
from authserver.tokens import usage as service

COLUMNS = service.REPORT_COLUMNS


@click.command("usage")
@with_appcontext
@realm_option
@click.option("--month", help="YYYY-MM (default: this month).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default=None,
              help="Output format  [default: table].")
@json_option
def usage_command(realm: str, month: str | None, fmt: str | None, as_json: bool) -> None:
    """Monthly active users of REALM, by client and identity provider."""
    if as_json and fmt not in (None, "json"):
        raise click.UsageError(f"--json and --format {fmt}: choose one")
    report = admin_call("GET", realm_path(realm, "usage"),
                        lambda: service.report(get_realm(realm), month, app_state().clock()), query={"month": month})
    if as_json or fmt == "json":
        emit_json(report)
    elif fmt == "csv":
        click.echo(service.report_csv(report), nl=False)
    else:
        click.echo(f"{report['realm']} {report['month']}: {report['active_users']} active users "
                   f"({report['identified_users']} identified, {report['anonymous_users']} anonymous)")
        emit_table(report["by_client_and_idp"], COLUMNS)

