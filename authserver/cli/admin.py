"""``authserver admin bootstrap``: the first admin client, and how to get an admin token."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from authserver.cli.options import ACTOR
from authserver.cli.output import emit_json, iso_utc, json_option
from authserver.cli.run import DEVELOPMENT_URL
from authserver.console.access import create_link, link_url
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


@admin.command("console-link")
@click.option("--realm", default=None, help="Only this realm in the console  [default: every realm].")
@click.option("--url", "base_url", metavar="URL",
              help="Where the server is reached  [default: ISSUER_BASE_URL if set, else "
                   f"{DEVELOPMENT_URL}].")
@json_option
def console_link(realm: str | None, base_url: str | None, as_json: bool) -> None:
    """A single-use link into the admin console with the admin role, valid for
    CONSOLE_LINK_SECONDS: for a fresh install that has no upstream IdP to log in with yet."""
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        raise click.BadParameter(f"expected an http(s) URL, got {base_url!r}", param_hint="--url")
    token, expires_at = create_link(realm, ACTOR)
    base = (base_url or current_app.config["ISSUER_BASE_URL"] or DEVELOPMENT_URL).rstrip("/")
    url = link_url(token, base)
    if as_json:
        emit_json({"url": url, "expires_at": expires_at})
        return
    click.echo(url)
    click.echo(f"single use, valid until {iso_utc(expires_at)}")
