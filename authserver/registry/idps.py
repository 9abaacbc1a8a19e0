"""Identity provider connections of a realm. Shared by the CLI and the admin API.

A connection names a connector plugin (``type``) and holds its configuration, checked by
the plugin at creation so bad settings are refused with a message naming the key.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry
from sqlalchemy import select

from authserver.crypto import new_secret
from authserver.errors import InvalidInput, NotFound
from authserver.events.outbox import publish
from authserver.extensions import db
from authserver.models import IdentityProvider, Realm
from authserver.models.idp import PROVISIONING, TRUST_LEVELS
from authserver.plugin_api import PluginConfigError
from authserver.plugin_host.loader import connector_class
from authserver.registry import audit, paging, validation
from authserver.registry.paging import Order, Page
from authserver.registry.transactions import commit_admin_change, commit_or_conflict
from authserver.state import app_state

IDP_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?\Z")
UPSTREAM_FIELDS = {"upstream_client_id", "upstream_auth_method", "upstream_scope", "upstream_secret"}
FIELDS = {"name", "type", "trust", "user_id_claim", "provisioning", "claim_mapping", "config",
          "client_id", "shared_secret", *UPSTREAM_FIELDS}
UPSTREAM_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
#: Key types a private_key_jwt key for the upstream may have (RFC 7518 §6, RFC 8037).
PRIVATE_KEY_TYPES = {"EC": "d", "RSA": "d", "OKP": "d"}
UPDATABLE = FIELDS - {"name", "type"} | {"disabled"}
ORDER = Order("idps", (IdentityProvider.name,))


def known_idp_names(realm: Realm) -> set[str]:
    return set(db.session.scalars(select(IdentityProvider.name)
                                  .where(IdentityProvider.realm_id == realm.id)))


def find_idp(realm: Realm, name: str) -> IdentityProvider | None:
    return db.session.scalar(select(IdentityProvider).where(
        IdentityProvider.realm_id == realm.id, IdentityProvider.name == name))


def get_idp(realm: Realm, name: str) -> IdentityProvider:
    idp = find_idp(realm, name)
    if idp is None:
        raise NotFound(f"no identity provider named {name!r} in realm {realm.name!r}")
    return idp


def list_idps(realm: Realm, limit: int | None = None, cursor: str | None = None, *,
              type: str | None = None, disabled: bool | str | None = None) -> Page:
    """A page of the realm's connections by name, optionally of one connector or state."""
    query = select(IdentityProvider).where(IdentityProvider.realm_id == realm.id)
    if paging.text_filter(type, "type", 64) is not None:
        query = query.where(IdentityProvider.type == type)
    if (disabled := paging.flag_filter(disabled, "disabled")) is not None:
        query = query.where(IdentityProvider.disabled.is_(disabled))
    return paging.page(query, ORDER, limit, cursor)


def test_connection(realm: Realm, name: str) -> list[dict[str, Any]]:
    """"Test connection": what the connection depends on upstream (discovery, JWKS), fetched
    now by its connector, and what was found."""
    idp = get_idp(realm, name)
    return [dataclasses.asdict(finding) for finding in app_state().connectors.connector(idp).probe()]


def create_idp(realm: Realm, data: dict[str, Any], actor: str) -> tuple[IdentityProvider, str | None]:
    """Create a connection; returns it and, when one was generated, its shared secret (shown once)."""
    validation.only_fields(data, FIELDS, "identity provider")
    name = data.get("name")
    if not isinstance(name, str) or not IDP_NAME.match(name):
        raise InvalidInput("name: 1-63 lower-case letters, digits, '_' or '-'")
    kind = validation.text(data.get("type"), "type", 64)
    _connector(kind)
    now = int(app_state().clock())
    idp = IdentityProvider(realm_id=realm.id, name=name, type=kind, trust="verified",
                           user_id_claim=_default_user_id_claim(kind), provisioning="create",
                           claim_mapping={}, config={}, disabled=False, created_at=now, updated_at=now)
    secret = _apply(realm, idp, {"config": {}, **data})
    db.session.add(idp)
    audit.record(realm, actor, "idp.create", "idp", name, after=idp.to_dict())
    publish(realm, "idp.created", idp.to_dict(), actor)
    commit_or_conflict(f"an identity provider named {name!r} already exists")
    return idp, secret


def update_idp(realm: Realm, name: str, data: dict[str, Any], actor: str) -> tuple[IdentityProvider, str | None]:
    validation.only_fields(data, UPDATABLE, "identity provider update")
    idp = get_idp(realm, name)
    before = idp.to_dict()
    secret = _apply(realm, idp, data)
    if "disabled" in data:
        idp.disabled = validation.boolean(data["disabled"], "disabled")
    idp.updated_at = int(app_state().clock())
    audit.record(realm, actor, "idp.update", "idp", name, before=before, after=idp.to_dict())
    publish(realm, "idp.updated", idp.to_dict(), actor)
    commit_or_conflict("conflicting update")
    return idp, secret


def delete_idp(realm: Realm, name: str, actor: str) -> None:
    idp = get_idp(realm, name)
    audit.record(realm, actor, "idp.delete", "idp", name, before=idp.to_dict())
    publish(realm, "idp.deleted", idp.to_dict(), actor)
    db.session.delete(idp)
    commit_admin_change()


def _apply(realm: Realm, idp: IdentityProvider, data: dict[str, Any]) -> str | None:
    if "trust" in data:
        idp.trust = _choice(data["trust"], "trust", TRUST_LEVELS)
    if "provisioning" in data:
        idp.provisioning = _choice(data["provisioning"], "provisioning", PROVISIONING)
    if "user_id_claim" in data:
        idp.user_id_claim = validation.text(data["user_id_claim"], "user_id_claim", 255)
    if "claim_mapping" in data:
        idp.claim_mapping = _claim_mapping(data["claim_mapping"])
    if "config" in data:
        idp.config = _validated_config(idp.type, data["config"])
    if "client_id" in data:
        idp.client_id = _bound_client(realm, data["client_id"])
    if _connector(idp.type).signed_by_client and not idp.client_id:
        raise InvalidInput(f"client_id: a {idp.type} connection names the client whose keys sign")
    if idp.provisioning == "link_verified_email" and not idp.verified:
        raise InvalidInput("provisioning: link_verified_email needs trust 'verified'")
    _apply_upstream(realm, idp, data)
    return _apply_secret(realm, idp, data.get("shared_secret"))


def _apply_upstream(realm: Realm, idp: IdentityProvider, data: dict[str, Any]) -> None:
    """The browser login's upstream client (OIDC Core §9): its id, how it authenticates, the
    scopes asked for, and its secret — a client secret or a private JWK — sealed at rest."""
    given = UPSTREAM_FIELDS & set(data)
    if not given:
        _check_upstream_audience(idp)
        return
    if not _connector(idp.type).browser_login:
        raise InvalidInput(f"{sorted(given)[0]}: a {idp.type} connection cannot run a browser login")
    if "upstream_client_id" in data:
        idp.upstream_client_id = validation.text(data["upstream_client_id"], "upstream_client_id", 255,
                                                 required=False)
    if "upstream_auth_method" in data:  # null: client_secret_basic with a secret, else none
        method = data["upstream_auth_method"]
        idp.upstream_auth_method = None if method is None else _choice(method, "upstream_auth_method",
                                                                       UPSTREAM_AUTH_METHODS)
    if "upstream_scope" in data:
        scopes = validation.scopes(data["upstream_scope"], "upstream_scope")
        if scopes and "openid" not in scopes:
            raise InvalidInput("upstream_scope: must include openid")
        idp.upstream_scope = " ".join(scopes) or None
    if "upstream_secret" in data:
        idp.upstream_secret_sealed = _sealed_upstream_secret(realm, idp, data["upstream_secret"])
    if idp.upstream_auth_method == "private_key_jwt" and idp.upstream_secret_sealed is not None:
        _check_private_jwk(app_state().box.open(idp.upstream_secret_sealed, context=_upstream_context(realm, idp))
                           .decode())
    _check_upstream_audience(idp)


def _check_upstream_audience(idp: IdentityProvider) -> None:
    accepted = (idp.config or {}).get("client_ids") or []
    if idp.upstream_client_id and idp.upstream_client_id not in accepted:
        raise InvalidInput("upstream_client_id: also list it among the connection's client ids, the audiences "
                           "its ID tokens are accepted for")


def _sealed_upstream_secret(realm: Realm, idp: IdentityProvider, value: Any) -> bytes | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 16384:
        raise InvalidInput("upstream_secret: must be a string (a client secret, or a private JWK as JSON)")
    return app_state().box.seal(value.encode(), context=_upstream_context(realm, idp))


def _upstream_context(realm: Realm, idp: IdentityProvider) -> str:
    return f"idp-upstream-secret:{realm.id}:{idp.name}"


def _check_private_jwk(value: str) -> None:
    """RFC 7523 §2.2 via RFC 7517: one private EC, RSA or OKP key, able to sign the assertion."""
    from authserver.browser.upstream import assertion_alg

    try:
        jwk = json.loads(value)
        if not isinstance(jwk, dict):
            raise ValueError("not a JSON object")
        key = JWKRegistry.import_key(jwk)
    except (ValueError, TypeError, KeyError, JoseError):
        raise InvalidInput("upstream_secret: private_key_jwt needs a private JWK (EC, RSA or OKP) as JSON") from None
    if PRIVATE_KEY_TYPES.get(jwk.get("kty")) not in jwk or not key.is_private:
        raise InvalidInput("upstream_secret: the JWK holds no private key")
    try:
        assertion_alg(jwk)
    except ValueError as exc:
        raise InvalidInput(f"upstream_secret: {exc}") from None
    if jwk.get("kty") == "RSA" and key.raw_value.key_size < 2048:
        raise InvalidInput("upstream_secret: an RSA key needs at least 2048 bits")


def _apply_secret(realm: Realm, idp: IdentityProvider, wanted: Any) -> str | None:
    """``shared_secret: true`` generates an HS256 secret (shown once) for a connector that
    accepts one."""
    if wanted is None:
        return None
    if wanted is False:
        idp.secret_sealed = None
        return None
    if wanted is not True or not _connector(idp.type).accepts_shared_secret:
        raise InvalidInput("shared_secret: true generates one, for a connector that accepts shared secrets")
    secret = new_secret(32)
    idp.secret_sealed = app_state().box.seal(secret.encode(), context=f"idp-secret:{realm.id}:{idp.name}")
    return secret


def _connector(kind: str):
    return connector_class(kind)


def _validated_config(kind: str, config: Any) -> dict:
    if not isinstance(config, dict):
        raise InvalidInput("config: must be a JSON object")
    try:
        return _connector(kind).validate_config(config)
    except PluginConfigError as exc:
        raise InvalidInput(f"config.{exc.key}: {exc.message}") from None


def _bound_client(realm: Realm, client_id: Any) -> str | None:
    if client_id is None:
        return None
    from authserver.registry.clients import get_client

    return get_client(realm, validation.text(client_id, "client_id", 64)).client_id


def _choice(value: Any, field: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise InvalidInput(f"{field}: must be one of {', '.join(choices)}")
    return value


def _claim_mapping(value: Any) -> dict:
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                              for k, v in value.items()):
        raise InvalidInput("claim_mapping: must map profile field names to upstream claim names")
    return value


def _default_user_id_claim(kind: str) -> str:
    """The app's own backend names its users; other IdPs are namespaced by connection."""
    return _connector(kind).default_user_id_rule
