"""Chat backends (resource servers) of a realm. Shared by the CLI and the admin API."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app
from sqlalchemy import select

from authserver.errors import Conflict, InvalidInput, NotFound
from authserver.events.outbox import publish
from authserver.extensions import db
from authserver.models import ChatBackend, Client, Realm
from authserver.plugin_api import PluginConfigError
from authserver.plugin_host.loader import profile_class
from authserver.plugin_host.profiles import credential_context
from authserver.registry import audit, paging, validation
from authserver.registry.paging import Order, Page
from authserver.registry.transactions import commit_admin_change, commit_or_conflict
from authserver.state import app_state

FIELDS = {"audience", "scopes", "default_scopes", "acl_template", "profile", "token_ttl", "credential"}
UPDATABLE = (FIELDS - {"audience"}) | {"rotate_key"}
ORDER = Order("backends", (ChatBackend.audience,))


def get_backend(realm: Realm, audience: str) -> ChatBackend:
    backend = find_backend(realm, audience)
    if backend is None:
        raise NotFound(f"no chat backend with audience {audience!r} in realm {realm.name!r}")
    return backend


def find_backend(realm: Realm, audience: str) -> ChatBackend | None:
    return db.session.scalar(select(ChatBackend).where(
        ChatBackend.realm_id == realm.id, ChatBackend.audience == audience))


def list_backends(realm: Realm, limit: int | None = None, cursor: str | None = None, *,
                  profile: str | None = None) -> Page:
    """A page of the realm's chat backends by audience, optionally of one token profile."""
    query = select(ChatBackend).where(ChatBackend.realm_id == realm.id)
    if paging.text_filter(profile, "profile", 64) is not None:
        query = query.where(ChatBackend.profile == profile)
    return paging.page(query, ORDER, limit, cursor)


def create_backend(realm: Realm, data: dict[str, Any], actor: str) -> ChatBackend:
    validation.only_fields(data, FIELDS, "chat backend")
    now = int(app_state().clock())
    backend = ChatBackend(realm_id=realm.id, audience=validation.identifier(data.get("audience"), "audience"),
                          profile="native", token_ttl=current_app.config["DEFAULT_TOKEN_LIFETIME"],
                          scopes=[], default_scopes=[], created_at=now, updated_at=now)
    _apply(backend, data)
    db.session.add(backend)
    audit.record(realm, actor, "backend.create", "backend", backend.audience, after=backend.to_dict())
    publish(realm, "backend.created", backend.to_dict(), actor)
    commit_or_conflict(f"a chat backend with audience {backend.audience!r} already exists")
    return backend


def update_backend(realm: Realm, audience: str, data: dict[str, Any], actor: str) -> ChatBackend:
    validation.only_fields(data, UPDATABLE, "chat backend update")
    backend = get_backend(realm, audience)
    before = backend.to_dict()
    _apply(backend, data)
    backend.updated_at = int(app_state().clock())
    audit.record(realm, actor, "backend.update", "backend", audience, before=before, after=backend.to_dict())
    publish(realm, "backend.updated", backend.to_dict(), actor)
    commit_or_conflict("conflicting update")
    return backend


def delete_backend(realm: Realm, audience: str, actor: str) -> None:
    backend = get_backend(realm, audience)
    holders = _clients_targeting(realm, audience)
    if holders:
        raise Conflict(f"chat backend {audience!r} is still an audience of client(s) "
                       f"{', '.join(holders)}; remove it from them first")
    audit.record(realm, actor, "backend.delete", "backend", audience, before=backend.to_dict())
    publish(realm, "backend.deleted", backend.to_dict(), actor)
    db.session.delete(backend)
    commit_admin_change()


def _clients_targeting(realm: Realm, audience: str) -> list[str]:
    clients = db.session.scalars(select(Client).where(Client.realm_id == realm.id))
    return sorted(c.client_id for c in clients if audience in c.audiences)


def _apply(backend: ChatBackend, data: dict[str, Any]) -> None:
    if "scopes" in data:
        backend.scopes = validation.scopes(data["scopes"], "scopes")
    if "default_scopes" in data:
        backend.default_scopes = validation.scopes(data["default_scopes"], "default_scopes")
    extra = sorted(set(backend.default_scopes) - set(backend.scopes))
    if extra:
        raise InvalidInput(f"default_scopes: {' '.join(extra)} not among the backend's scopes")
    if "acl_template" in data:
        backend.acl_template = validation.acl_template(data["acl_template"])
    if "profile" in data or "credential" in data:
        _apply_profile(backend, data)
    if "rotate_key" in data and validation.boolean(data["rotate_key"], "rotate_key"):
        _rotate_key(backend, data)
    if "token_ttl" in data:
        backend.token_ttl = validation.integer(data["token_ttl"], "token_ttl", 1,
                                               current_app.config["MAX_TOKEN_LIFETIME"])


def _apply_profile(backend: ChatBackend, data: dict[str, Any]) -> None:
    """Set the token profile and its vendor credential, checked by the profile now (so a
    bad credential is refused at configuration time) and sealed at rest.

    While the profile stays the same, a given credential is a JSON merge patch (RFC 7396)
    over the stored one: the keys it names change, ``null`` removes one, the rest are kept.
    A new profile takes a whole credential of its own."""
    changed = "profile" in data and data["profile"] != backend.profile
    if "profile" in data:
        backend.profile = validation.text(data["profile"], "profile", 64)
    cls = profile_class(backend.profile)
    given = data.get("credential")
    if not cls.requires_credential:
        if given is not None:
            raise InvalidInput(f"credential: the {backend.profile} profile takes no credential")
        backend.credential_sealed = None
        return
    stored = None if changed or backend.credential_sealed is None else _stored_credential(backend)
    if given is None and stored is not None:
        return
    credential = _credential(cls, backend.profile, given) if stored is None else \
        _merged_credential(cls, stored, given)
    backend.credential_sealed = app_state().box.seal(json.dumps(credential).encode(),
                                                    credential_context(backend))


def _stored_credential(backend: ChatBackend) -> dict:
    return dict(app_state().profiles.for_backend(backend).credential)


def _merged_credential(cls, stored: dict, patch: Any) -> dict:
    if not isinstance(patch, dict):
        raise InvalidInput("credential: must be a JSON object")
    merged = {k: v for k, v in {**stored, **patch}.items() if v is not None}
    try:
        return dict(cls.validate_credential(merged))
    except PluginConfigError as exc:
        raise InvalidInput(f"credential.{exc.key}: {exc.message}") from None


def _credential(cls, profile: str, given: Any) -> dict:
    if given is not None and not isinstance(given, dict):
        raise InvalidInput("credential: must be a JSON object")
    generated = cls.generate_credential() or {}
    if given is None and not generated:
        raise InvalidInput(f"credential: the {profile} profile needs a vendor credential")
    try:
        return dict(cls.validate_credential({**generated, **(given or {})}))
    except PluginConfigError as exc:
        raise InvalidInput(f"credential.{exc.key}: {exc.message}") from None


def _rotate_key(backend: ChatBackend, data: dict[str, Any]) -> None:
    """A new server-generated key (a Matrix backend's signing key), the other credential
    settings kept. It signs from now on: see the profile's key rotation procedure."""
    cls = profile_class(backend.profile)
    generated = cls.generate_credential() if cls.requires_credential else None
    if not generated:
        raise InvalidInput(f"rotate_key: the {backend.profile} profile has no server-generated key")
    if "credential" in data:
        raise InvalidInput("rotate_key: give either a credential or rotate_key, not both")
    if backend.credential_sealed is None:
        raise InvalidInput("rotate_key: the chat backend has no credential yet")
    kept = {k: v for k, v in app_state().profiles.for_backend(backend).credential.items() if k not in generated}
    credential = _credential(cls, backend.profile, kept)
    backend.credential_sealed = app_state().box.seal(json.dumps(credential).encode(),
                                                    credential_context(backend))


def describe_backend(backend: ChatBackend) -> dict[str, Any]:
    """What ``backends show`` prints: the settings and the profile's public facts (a Matrix
    backend's public key and jwt_config snippet), never the credential."""
    data = backend.to_dict()
    if backend.credential_sealed is not None:
        data["profile_info"] = app_state().profiles.for_backend(backend).public_info()
    return data
