"""Identity provider connections of a realm. Shared by the CLI and the admin API.

A connection names a connector plugin (``type``) and holds its configuration, checked by
the plugin at creation so bad settings are refused with a message naming the key.
"""

from __future__ import annotations

import re
from typing import Any

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
FIELDS = {"name", "type", "trust", "user_id_claim", "provisioning", "claim_mapping", "config",
          "client_id", "shared_secret"}
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
    return _apply_secret(realm, idp, data.get("shared_secret"))


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
