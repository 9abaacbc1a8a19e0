"""``authserver admin bootstrap``: the first admin client, and how to get an admin token."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from authserver.cli.options import ACTOR
from authserver.cli.output import emit_json, json_option
from authserver.cli.run import DEVELOPMENT_URL
from authserver.registry.bootstrap import bootstrap_admin_client
from authserver.registry.realms import get_realm

admin = AppGroup("admin", help="Access to the admin API.")


@admin.command("bootstrap")
@click.option("--realm", default="default", show_default=True,
              help="Realm of the admin client (ADMIN_REALM administers every realm).")
@click.option("--url", "base_url", metavar="URL",
              help="Where the server is reached, for the printed curl  [default: ISSUER_BASE_URL "
                   f"if set, else {DEVELOPMENT_URL}, the address of `authserver run`].")
@json_option
def bootstrap(realm: str, base_url: str | None, as_json: bool) -> None:
    """Create (or re-create, with a new secret) the `admin-cli` client with scope admin."""
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise click.BadParameter(f"expected an http(s) URL, got {base_url!r}", param_hint="--url")
    issued = bootstrap_admin_client(get_realm(realm), ACTOR)
    base_url = (base_url or current_app.config["ISSUER_BASE_URL"] or DEVELOPMENT_URL).rstrip("/")
    token_endpoint = f"{base_url}/realms/{realm}/token"
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
