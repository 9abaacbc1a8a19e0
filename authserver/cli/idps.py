"""``authserver idps``: a realm's connections to upstream identity providers."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from authserver.cli.dispatch import admin_call, admin_list, realm_path
from authserver.cli.options import ACTOR, flag_filter, page_options, realm_option
from authserver.cli.output import emit, emit_page, json_option
from authserver.errors import InvalidInput
from authserver.models import IdentityProvider
from authserver.registry import idps as service
from authserver.registry.realms import get_realm

idps = AppGroup("idps", help="Manage identity provider connections.")
COLUMNS = ("name", "type", "trust", "provisioning", "user_id_claim", "disabled")
name_argument = click.argument("name")


def _connection_options(command):
    options = [
        click.option("--trust", type=click.Choice(["verified", "unverified"])),
        click.option("--user-id-claim", help="Claim or template naming the user, e.g. email or {idp}:{sub}."),
        click.option("--provisioning", type=click.Choice(["create", "link_verified_email", "existing_only"])),
        click.option("--issuer", help="oidc: the upstream issuer URL."),
        click.option("--client-id", "client_ids", multiple=True,
                     help="oidc: our client id at the upstream IdP (repeatable)."),
        click.option("--userinfo/--no-userinfo", default=None,
                     help="oidc: also accept access tokens, checked at userinfo."),
        click.option("--userinfo-url", help="oauth2_userinfo: the profile endpoint."),
        click.option("--subject-claim", help="oauth2_userinfo: the claim holding the subject."),
        click.option("--client", "signing_client", help="backend_assertion: the client whose keys sign."),
        click.option("--shared-secret", is_flag=True, default=None,
                     help="backend_assertion: also accept HS256 with a generated secret (shown once)."),
        click.option("--config", "config_json", help="Connector settings as a JSON object."),
        click.option("--upstream-client-id", help="Browser login: our client id at the upstream IdP."),
        click.option("--upstream-auth-method",
                     type=click.Choice(["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]),
                     help="Browser login: how that client authenticates at the upstream token endpoint."),
        click.option("--upstream-scope", help='Browser login: scopes asked upstream (default "openid email profile").'),
        click.option("--upstream-secret-file", type=click.Path(dir_okay=False, allow_dash=True),
                     help="Browser login: file holding the upstream client secret, or the private JWK for "
                          "private_key_jwt ('-' reads stdin). Sealed at rest, never shown."),
        click.option("--clear-upstream-secret", is_flag=True, default=None, help="Remove the upstream secret."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _data(kind, trust, user_id_claim, provisioning, issuer, client_ids, userinfo, userinfo_url,
          subject_claim, signing_client, shared_secret, config_json, upstream_client_id=None,
          upstream_auth_method=None, upstream_scope=None, upstream_secret_file=None,
          clear_upstream_secret=None) -> dict:
    config = _json_object(config_json) if config_json else {}
    for key, value in (("issuer", issuer), ("userinfo_url", userinfo_url),
                       ("subject_claim", subject_claim), ("userinfo", userinfo)):
        if value is not None:
            config[key] = value
    if client_ids:
        config["client_ids"] = list(client_ids)
    data = {"trust": trust, "user_id_claim": user_id_claim, "provisioning": provisioning,
            "client_id": signing_client, "shared_secret": shared_secret}
    data.update(upstream_client_id=upstream_client_id, upstream_auth_method=upstream_auth_method,
                upstream_scope=upstream_scope)
    data = {k: v for k, v in data.items() if v is not None}
    if upstream_secret_file is not None and clear_upstream_secret:
        raise InvalidInput("--upstream-secret-file and --clear-upstream-secret exclude each other")
    if upstream_secret_file is not None:
        data["upstream_secret"] = _read_secret(upstream_secret_file)
    elif clear_upstream_secret:
        data["upstream_secret"] = None
    if config or kind:
        data["config"] = config
    return data


def _read_secret(path: str) -> str:
    try:
        with click.open_file(path, "r", encoding="utf-8") as handle:
            value = handle.read(16385).strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"--upstream-secret-file: cannot read {path}: {exc.__class__.__name__}") from None
    if not value:
        raise InvalidInput("--upstream-secret-file: the file is empty")
    return value


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidInput("--config: not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidInput("--config: must be a JSON object")
    return value


def _issued(idp, secret) -> dict:
    """The connection, and its shared secret when this request generated one (shown once)."""
    data = idp.to_dict()
    if secret:
        data["shared_secret"] = secret
    return data


@idps.command("create")
@realm_option
@click.option("--name", required=True)
@click.option("--type", "kind", required=True, help="Connector: oidc, oauth2_userinfo, backend_assertion, …")
@_connection_options
@json_option
def create(realm, name, kind, as_json, **options):
    """Connect the realm to an upstream identity provider."""
    data = {"name": name, "type": kind, **_data(kind, **options)}
    emit(admin_call("POST", realm_path(realm, "idps"),
                    lambda: _issued(*service.create_idp(get_realm(realm), data, ACTOR)), body=data), as_json, None)


@idps.command("update")
@realm_option
@name_argument
@_connection_options
@json_option
def update(realm, name, as_json, **options):
    """Change connection NAME (connector settings given replace the old ones)."""
    data = _data(None, **options)
    if "config" in data:
        data["config"] = {**_shown(realm, name)["config"], **data["config"]}
    emit(_updated(realm, name, data), as_json, None)


def _shown(realm: str, name: str) -> dict:
    return admin_call("GET", realm_path(realm, "idps", name), lambda: service.get_idp(get_realm(realm), name).to_dict())


def _updated(realm: str, name: str, data: dict) -> dict:
    return admin_call("PATCH", realm_path(realm, "idps", name),
                      lambda: _issued(*service.update_idp(get_realm(realm), name, data, ACTOR)), body=data)


@idps.command("list")
@realm_option
@page_options()
@click.option("--type", "kind", help="Only connections of this connector.")
@flag_filter("disabled", "disabled", "enabled", "Only disabled (or enabled) connections.")
@json_option
def list_(realm, limit, cursor, kind, disabled, as_json):
    """List connections, by name."""
    page = admin_list(realm_path(realm, "idps"), lambda: service.list_idps(
        get_realm(realm), limit, cursor, type=kind, disabled=disabled).map(IdentityProvider.to_dict),
        {"limit": limit, "cursor": cursor, "type": kind, "disabled": disabled})
    emit_page(page, as_json, COLUMNS)


@idps.command("show")
@realm_option
@name_argument
@json_option
def show(realm, name, as_json):
    """Show connection NAME."""
    emit(_shown(realm, name), as_json, None)


@idps.command("test")
@realm_option
@name_argument
@json_option
def test(realm, name, as_json):
    """Test connection NAME: fetch its upstream discovery and JWKS now and show what was found.
    Exits 2 when a fetch failed."""
    findings = admin_call("POST", realm_path(realm, "idps", name, "test"),
                          lambda: service.test_connection(get_realm(realm), name))
    emit(findings, as_json, ("what", "ok", "detail"))
    if not all(finding["ok"] for finding in findings):
        raise SystemExit(2)


def _toggle(disabled: bool):
    def command(realm, name, as_json):
        emit(_updated(realm, name, {"disabled": disabled}), as_json, None)
    return command


for _verb, _disabled in (("disable", True), ("enable", False)):
    idps.command(_verb, help=f"{_verb.capitalize()} connection NAME.")(
        realm_option(name_argument(json_option(_toggle(_disabled)))))


@idps.command("delete")
@realm_option
@name_argument
@json_option
def delete(realm, name, as_json):
    """Delete connection NAME and its identity links."""
    admin_call("DELETE", realm_path(realm, "idps", name), lambda: service.delete_idp(get_realm(realm), name, ACTOR))
    emit({"deleted": name}, as_json)
