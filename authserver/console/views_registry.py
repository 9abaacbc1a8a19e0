"""Console pages for what an admin registers: realms, clients (RFC 6749 §2), chat backends
and IdP connections (with "test connection"). Each action calls the service function the
CLI and the admin API call (:mod:`authserver.registry`)."""

from __future__ import annotations

from flask import Blueprint, g

from authserver.console.web import Refused, action, confirmed, field, page, signed_in_only, visible_realms, words
from authserver.edge.json_input import parse_json_object
from authserver.errors import InvalidInput
from authserver.models.client import AUTH_METHODS
from authserver.models.idp import PROVISIONING, TRUST_LEVELS
from authserver.plugin_host.loader import connector_names, profile_names
from authserver.registry import backends, clients, idps, realms
from authserver.registry.clients import GRANT_AUTHORIZATION_CODE
from authserver.registry.realms import get_realm
from authserver.tokens.revocation import revoke_client_tokens

blueprint = Blueprint("console_registry", __name__)
GRANT_CHOICES = ("client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange",
                 GRANT_AUTHORIZATION_CODE, "refresh_token")


def _realm_facts(name: str) -> dict:
    shown = realms.show_realm(name)
    return {"name": name, "display_name": shown.get("display_name"), "counts": shown.get("counts", {})}


# --- realms ------------------------------------------------------------------------------


@blueprint.get("/realms")
@signed_in_only
def realms_page(error: str | None = None, notice: str | None = None):
    listed = [_realm_facts(name) for name in visible_realms()]
    return page("realms.html", realms_shown=listed, error=error, notice=notice)


@blueprint.post("/realms")
@action(realms_page)
def create_realm(form):
    if g.console.session.realm is not None:
        raise Refused("This console session administers one realm; it cannot create realms.", 403)
    realm = realms.create_realm(realms.validate_realm_name(field(form, "name")), field(form, "alg", required=False),
                                g.console.session.actor)
    return realms_page(notice=f"Realm {realm.name} created, with its first signing key.")


# --- clients -----------------------------------------------------------------------------


@blueprint.get("/realms/<realm>/clients")
@signed_in_only
def clients_page(realm: str, error: str | None = None, notice: str | None = None, issued=None):
    rows = [client.to_dict() for client in clients.list_clients(get_realm(realm), limit=200)]
    return page("clients.html", realm_name=realm, clients_shown=rows, error=error, notice=notice, issued=issued,
                auth_methods=AUTH_METHODS, grant_choices=GRANT_CHOICES)


@blueprint.post("/realms/<realm>/clients")
@action(clients_page)
def create_client(form, realm: str):
    data = {"name": field(form, "name"), "auth_method": field(form, "auth_method"),
            "audiences": words(form, "audiences"), "scopes": words(form, "scopes"), "idps": words(form, "idps"),
            "redirect_uris": words(form, "redirect_uris"), "allow_anonymous": form.get("allow_anonymous") == "yes"}
    grant_types = [grant for grant in GRANT_CHOICES if form.get(f"grant:{grant}") == "yes"]
    if grant_types:
        data["grant_types"] = grant_types
    if form.get("client_id"):
        data["client_id"] = field(form, "client_id")
    issued = clients.create_client(get_realm(realm), data, g.console.session.actor)
    return clients_page(realm, notice=f"Client {issued.client.client_id} created.", issued=issued.to_dict())


@blueprint.post("/realms/<realm>/clients/<client_id>/rotate-secret")
@action(clients_page)
def rotate_client_secret(form, realm: str, client_id: str):
    issued = clients.rotate_secret(get_realm(realm), client_id, g.console.session.actor)
    return clients_page(realm, notice=f"New secret for {client_id}; the old one stopped working.",
                        issued=issued.to_dict())


@blueprint.post("/realms/<realm>/clients/<client_id>/disable")
@action(clients_page)
def disable_client(form, realm: str, client_id: str):
    disabled = form.get("disabled") != "no"
    clients.set_disabled(get_realm(realm), client_id, disabled, g.console.session.actor)
    return clients_page(realm, notice=f"Client {client_id} {'disabled' if disabled else 'enabled'}.")


@blueprint.post("/realms/<realm>/clients/<client_id>/revoke-tokens")
@action(clients_page)
def revoke_client(form, realm: str, client_id: str):
    revoke_client_tokens(get_realm(realm), client_id, g.console.session.actor)
    return clients_page(realm, notice=f"Every token issued to {client_id} until now is revoked.")


@blueprint.post("/realms/<realm>/clients/<client_id>/delete")
@action(clients_page)
def delete_client(form, realm: str, client_id: str):
    confirmed(form, f"delete client {client_id}")
    clients.delete_client(get_realm(realm), client_id, g.console.session.actor)
    return clients_page(realm, notice=f"Client {client_id} deleted.")


# --- chat backends -----------------------------------------------------------------------


@blueprint.get("/realms/<realm>/backends")
@signed_in_only
def backends_page(realm: str, error: str | None = None, notice: str | None = None):
    rows = [backend.to_dict() for backend in backends.list_backends(get_realm(realm), limit=200)]
    return page("backends.html", realm_name=realm, backends_shown=rows, error=error, notice=notice,
                profiles=profile_names())


def _credential(form) -> dict | None:
    """The profile credential, a JSON object typed into the form; never shown back."""
    raw = (form.get("credential") or "").strip()
    if not raw:
        return None
    try:
        return parse_json_object(raw.encode(), what="credential")
    except InvalidInput as exc:
        raise Refused(exc.message) from None


@blueprint.post("/realms/<realm>/backends")
@action(backends_page)
def create_backend(form, realm: str):
    data = {"audience": field(form, "audience"), "scopes": words(form, "scopes"),
            "default_scopes": words(form, "default_scopes"), "profile": field(form, "profile", required=False)}
    ttl = field(form, "token_ttl", required=False)
    if ttl is not None:
        if not ttl.isascii() or not ttl.isdigit() or len(ttl) > 9:
            raise Refused("token ttl: a number of seconds")
        data["token_ttl"] = int(ttl)
    credential = _credential(form)
    if credential is not None:
        data["credential"] = credential
    backend = backends.create_backend(get_realm(realm), {k: v for k, v in data.items() if v is not None},
                                      g.console.session.actor)
    return backends_page(realm, notice=f"Chat backend {backend.audience} created.")


@blueprint.post("/realms/<realm>/backends/<path:audience>/credential")
@action(backends_page)
def set_backend_credential(form, realm: str, audience: str):
    credential = _credential(form)
    if credential is None:
        raise Refused("credential: a JSON object of the profile's settings")
    backends.update_backend(get_realm(realm), audience, {"credential": credential}, g.console.session.actor)
    return backends_page(realm, notice=f"Credential of {audience} set (stored encrypted, never shown).")


@blueprint.post("/realms/<realm>/backends/<path:audience>/delete")
@action(backends_page)
def delete_backend(form, realm: str, audience: str):
    confirmed(form, f"delete chat backend {audience}")
    backends.delete_backend(get_realm(realm), audience, g.console.session.actor)
    return backends_page(realm, notice=f"Chat backend {audience} deleted.")


# --- IdP connections ---------------------------------------------------------------------


@blueprint.get("/realms/<realm>/idps")
@signed_in_only
def idps_page(realm: str, error: str | None = None, notice: str | None = None, probe=None):
    rows = [idp.to_dict() for idp in idps.list_idps(get_realm(realm), limit=200)]
    return page("idps.html", realm_name=realm, idps_shown=rows, error=error, notice=notice, probe=probe,
                connector_types=connector_names(), trust_levels=TRUST_LEVELS, provisioning=PROVISIONING)


@blueprint.post("/realms/<realm>/idps")
@action(idps_page)
def create_idp(form, realm: str):
    kind = field(form, "type")
    data = {"name": field(form, "name"), "type": kind, "trust": field(form, "trust"),
            "provisioning": field(form, "provisioning")}
    data["config"] = _connector_config(form)
    for name in ("upstream_client_id", "upstream_secret", "user_id_claim", "client_id"):
        if form.get(name):
            data[name] = field(form, name)
    if form.get("shared_secret") == "yes":
        data["shared_secret"] = True
    idp, secret = idps.create_idp(get_realm(realm), data, g.console.session.actor)
    note = f"Connection {idp.name} created."
    if secret:
        note += f" Its shared secret, shown once: {secret}"
    return idps_page(realm, notice=note)


def _connector_config(form) -> dict:
    """The connector's settings the form offers (as ``authserver idps create`` takes them)."""
    config: dict = {}
    for name in ("issuer", "userinfo_url", "subject_claim"):
        if form.get(name):
            config[name] = field(form, name)
    if form.get("client_ids"):
        config["client_ids"] = words(form, "client_ids")
    return config


@blueprint.post("/realms/<realm>/idps/<name>/test")
@action(idps_page, viewers_too=True)
def test_idp(form, realm: str, name: str):
    """Viewers may test too: it changes nothing (the caches are left alone)."""
    return idps_page(realm, probe={"name": name, "findings": idps.test_connection(get_realm(realm), name)})


@blueprint.post("/realms/<realm>/idps/<name>/disable")
@action(idps_page)
def disable_idp(form, realm: str, name: str):
    disabled = form.get("disabled") != "no"
    idps.update_idp(get_realm(realm), name, {"disabled": disabled}, g.console.session.actor)
    return idps_page(realm, notice=f"Connection {name} {'disabled' if disabled else 'enabled'}.")


@blueprint.post("/realms/<realm>/idps/<name>/delete")
@action(idps_page)
def delete_idp(form, realm: str, name: str):
    confirmed(form, f"delete connection {name}")
    idps.delete_idp(get_realm(realm), name, g.console.session.actor)
    return idps_page(realm, notice=f"Connection {name} deleted.")
