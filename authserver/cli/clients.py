"""``authserver clients``: a realm's clients (RFC 6749 §2), and RFC 7591 initial access tokens.

Thin wrappers over :mod:`authserver.registry.clients` and :mod:`authserver.registry.registration`, the
functions the admin API and dynamic registration call too.
"""

from __future__ import annotations

from collections.abc import Callable

import click
from flask.cli import AppGroup

from authserver.cli.dispatch import admin_call, admin_list, realm_path
from authserver.cli.options import ACTOR, flag_filter, given, page_options, read_json_file, realm_option
from authserver.cli.output import emit, emit_page, json_option
from authserver.errors import InvalidInput
from authserver.models import Client
from authserver.models.client import AUTH_METHODS
from authserver.registry import clients as service
from authserver.registry import registration
from authserver.registry.realms import get_realm

clients = AppGroup("clients", help="Manage a realm's clients (apps and their components).")
COLUMNS = ("client_id", "name", "auth_method", "grant_types", "audiences", "scopes", "disabled")
GRANT_ALIASES = {"client_credentials": service.GRANT_CLIENT_CREDENTIALS,
                 "token-exchange": service.GRANT_TOKEN_EXCHANGE,
                 "token_exchange": service.GRANT_TOKEN_EXCHANGE}
client_id_argument = click.argument("client_id")


def field_options(update: bool) -> Callable:
    """The client fields, as options; on ``update`` each flag also has a ``--no-`` form."""
    def flag(name: str, help_text: str):
        if update:
            return click.option(f"--{name}/--no-{name}", default=None, help=help_text)
        return click.option(f"--{name}", is_flag=True, default=None, help=help_text)

    options = [
        click.option("--name", required=not update, help="Display name."),
        click.option("--grant-type", "grant_types", multiple=True,
                     help="Allowed grant type (repeat): client_credentials, token-exchange, "
                          "authorization_code, refresh_token or a URN."),
        click.option("--audience", "audiences", multiple=True, help="Chat backend audience (repeat)."),
        click.option("--scopes", help='Allowed scopes, space-separated: "a b".'),
        click.option("--jwks-file", type=click.Path(dir_okay=False),
                     help="JSON file with the client's public keys (private_key_jwt)."),
        click.option("--jwks-uri", help="URL of the client's public keys (private_key_jwt)."),
        click.option("--redirect-uri", "redirect_uris", multiple=True, help="Redirect URI (repeat)."),
        click.option("--idp", "idps", multiple=True, help="Identity provider name (repeat)."),
        click.option("--serves", "serves", multiple=True,
                     help="Chat backend audience this client acts for: it introspects that backend's "
                          "tokens and may re-exchange tokens addressed to it (repeat)."),
        click.option("--post-logout-redirect-uri", "post_logout_redirect_uris", multiple=True,
                     help="Where /logout may return the browser (repeat)."),
        click.option("--application-type", type=click.Choice(["web", "native"]),
                     help="native: loopback redirect URIs match any port, private-use schemes allowed."),
        flag("require-par", "Authorization requests must be pushed first (/par)."),
        click.option("--refresh-token-ttl", type=click.IntRange(60), help="Lifetime of one refresh token, seconds."),
        click.option("--refresh-token-absolute-ttl", type=click.IntRange(60),
                     help="Lifetime of a refresh token family however often rotated, seconds."),
        flag("allow-anonymous", "May create anonymous users (public clients)."),
        flag("allow-delegation", "May act for users (actor tokens)."),
    ]

    def decorate(command: Callable) -> Callable:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def client_data(grant_types=(), audiences=(), redirect_uris=(), idps=(), serves=(), jwks_file=None,
                post_logout_redirect_uris=(), **fields) -> dict:
    data = given(grant_types=tuple(GRANT_ALIASES.get(g, g) for g in grant_types),
                 audiences=audiences, redirect_uris=redirect_uris, idps=idps, serves=serves,
                 post_logout_redirect_uris=post_logout_redirect_uris, **fields)
    for name in ("grant_types", "audiences", "redirect_uris", "idps", "serves", "post_logout_redirect_uris"):
        if name in data:
            data[name] = list(data[name])
    if jwks_file is not None:
        data["jwks"] = read_json_file(jwks_file, "--jwks-file")
    return data


@clients.command("create")
@realm_option
@click.option("--client-id", help="Identifier (default: generated).")
@click.option("--public", is_flag=True, help="A public client (browser, mobile): auth method none.")
@click.option("--auth-method", help="client_secret_basic (default), client_secret_post, "
                                    "private_key_jwt or none.")
@field_options(update=False)
@json_option
def create(realm: str, public: bool, auth_method: str | None, as_json: bool, **fields) -> None:
    """Register a client; a confidential client's secret is printed once."""
    if public and auth_method not in (None, "none"):
        raise InvalidInput("--public and --auth-method: a public client authenticates with 'none'")
    fields = {k: v for k, v in fields.items() if v is not False}
    data = client_data(auth_method="none" if public else auth_method, **fields)
    issued = admin_call("POST", realm_path(realm, "clients"),
                        lambda: service.create_client(get_realm(realm), data, ACTOR).to_dict(), body=data)
    emit_issued(issued, as_json)


@clients.command("list")
@realm_option
@page_options()
@click.option("--auth-method", type=click.Choice(AUTH_METHODS), help="Only clients of this auth method.")
@flag_filter("disabled", "disabled", "enabled", "Only disabled (or enabled) clients.")
@json_option
def list_(realm: str, limit: int, cursor: str | None, auth_method: str | None, disabled: bool | None,
          as_json: bool) -> None:
    """List the realm's clients, by client_id."""
    page = admin_list(realm_path(realm, "clients"), lambda: service.list_clients(
        get_realm(realm), limit, cursor, auth_method=auth_method, disabled=disabled).map(Client.to_dict),
        {"limit": limit, "cursor": cursor, "auth_method": auth_method, "disabled": disabled})
    emit_page(page, as_json, COLUMNS)


@clients.command("show")
@realm_option
@client_id_argument
@json_option
def show(realm: str, client_id: str, as_json: bool) -> None:
    """Show one client (never its secret)."""
    emit(admin_call("GET", realm_path(realm, "clients", client_id),
                    lambda: service.get_client(get_realm(realm), client_id).to_dict()), as_json)


@clients.command("update")
@realm_option
@client_id_argument
@field_options(update=True)
@json_option
def update(realm: str, client_id: str, as_json: bool, **fields) -> None:
    """Change the fields given; a repeated option replaces the whole list."""
    data = client_data(**fields)
    emit(admin_call("PATCH", realm_path(realm, "clients", client_id),
                    lambda: service.update_client(get_realm(realm), client_id, data, ACTOR).to_dict(), body=data),
         as_json)


@clients.command("rotate-secret")
@realm_option
@client_id_argument
@click.option("--grace", "grace_seconds", type=int, default=0, show_default=True,
              help="Seconds the old secret keeps working.")
@json_option
def rotate_secret(realm: str, client_id: str, grace_seconds: int, as_json: bool) -> None:
    """Replace the client's secret; the new one is printed once."""
    issued = admin_call("POST", realm_path(realm, "clients", client_id, "rotate-secret"),
                        lambda: service.rotate_secret(get_realm(realm), client_id, ACTOR, grace_seconds).to_dict(),
                        body={"grace_seconds": grace_seconds})
    emit_issued(issued, as_json)


def _toggle(verb: str, disabled: bool):
    def command(realm: str, client_id: str, as_json: bool) -> None:
        emit(admin_call("POST", realm_path(realm, "clients", client_id, verb),
                        lambda: service.set_disabled(get_realm(realm), client_id, disabled, ACTOR).to_dict()), as_json)
    return command


clients.command("disable", help="Refuse the client at every endpoint until enabled again.")(
    realm_option(client_id_argument(json_option(_toggle("disable", True)))))
clients.command("enable", help="Accept a disabled client again.")(
    realm_option(client_id_argument(json_option(_toggle("enable", False)))))


@clients.command("delete")
@realm_option
@client_id_argument
@json_option
def delete(realm: str, client_id: str, as_json: bool) -> None:
    """Delete the client."""
    admin_call("DELETE", realm_path(realm, "clients", client_id),
               lambda: service.delete_client(get_realm(realm), client_id, ACTOR))
    emit({"deleted": client_id}, as_json)


@clients.command("initial-token")
@realm_option
@click.option("--ttl", type=int, default=registration.DEFAULT_INITIAL_TOKEN_TTL, show_default=True,
              help="Seconds the token stays valid.")
@json_option
def initial_token(realm: str, ttl: int, as_json: bool) -> None:
    """Create an RFC 7591 initial access token for POST /realms/R/register (printed once)."""
    emit(admin_call("POST", realm_path(realm, "initial-tokens"),
                    lambda: registration.create_initial_token(get_realm(realm), ttl, ACTOR), body={"ttl": ttl}),
         as_json)


def emit_issued(data: dict, as_json: bool) -> None:
    emit(data, as_json)
    if "client_secret" in data and not as_json:
        click.echo("Store the client_secret now: it is not shown again.", err=True)


@clients.command("revoke-tokens")
@realm_option
@click.argument("client_id")
@json_option
def revoke_tokens(realm: str, client_id: str, as_json: bool) -> None:
    """Every token issued to CLIENT_ID until now stops working."""
    from authserver.tokens.revocation import revoke_client_tokens

    emit(admin_call("POST", realm_path(realm, "clients", client_id, "revoke-tokens"),
                    lambda: revoke_client_tokens(get_realm(realm), client_id, ACTOR).to_dict()), as_json, None)
