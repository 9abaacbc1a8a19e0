"""``authserver admin bootstrap``: the first admin client, and how to get an admin token."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from authserver.cli.options import ACTOR
from authserver.cli.output import emit_json
from authserver.registry.bootstrap import bootstrap_admin_client
from authserver.registry.realms import get_realm

admin = AppGroup("admin", help="Access to the admin API.")
DEFAULT_BASE_URL = "http://127.0.0.1:8000"  # `authserver serve` without ISSUER_BASE_URL


@admin.command("bootstrap")
@click.option("--realm", default="default", show_default=True,
              help="Realm of the admin client (ADMIN_REALM administers every realm).")
@click.option("--json", "as_json", is_flag=True, help="Print only JSON.")
def bootstrap(realm: str, as_json: bool) -> None:
    """Create (or re-create, with a new secret) the `admin-cli` client with scope admin."""
    issued = bootstrap_admin_client(get_realm(realm), ACTOR)
    token_endpoint = f"{current_app.config['ISSUER_BASE_URL'] or DEFAULT_BASE_URL}/realms/{realm}/token"
    curl = (f"curl -s -u '{issued.client.client_id}:{issued.client_secret}' "
            f"-d grant_type=client_credentials -d scope=admin {token_endpoint}")
    if as_json:
        emit_json({"client_id": issued.client.client_id, "client_secret": issued.client_secret,
                   "token_endpoint": token_endpoint, "curl": curl})
        return
    click.echo(f"client_id: {issued.client.client_id}")
    click.echo(f"client_secret: {issued.client_secret}  (shown once)")
    click.echo("Get an admin token (then send it as 'Authorization: Bearer <access_token>' to /admin/...):")
    click.echo(f"  {curl}")
