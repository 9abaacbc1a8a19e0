"""Realms: one per chat application. Shared by the CLI and the admin API.

A realm is created with an active signing key, shown with what it holds, updated (its
display name) and deleted with every row it holds. ``ADMIN_REALM`` cannot be deleted (its
admin clients administer every realm); a realm's deletion is recorded in ADMIN_REALM's
audit log, its own going with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import make_transient_to_detached

from authserver.errors import Conflict, InvalidInput, NotFound
from authserver.extensions import db
from authserver.models import ChatBackend, Client, IdentityProvider, Realm, User, WebhookSubscription
from authserver.registry import audit, paging, validation
from authserver.registry.paging import Order, Page
from authserver.registry.transactions import commit_admin_change
from authserver.state import app_state

REALM_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")
UPDATABLE = {"display_name"}
ORDER = Order("realms", (Realm.name,))
#: What ``show_realm`` counts (what a deletion takes with it).
COUNTED = {"clients": Client, "backends": ChatBackend, "idps": IdentityProvider, "users": User,
           "webhooks": WebhookSubscription}


def validate_realm_name(name: str) -> str:
    if not isinstance(name, str) or not REALM_NAME.match(name):
        raise InvalidInput(f"invalid realm name {name!r}: use 1-63 lower-case letters, digits "
                           "and inner hyphens (a URL-safe slug)")
    return name


@dataclass(frozen=True, slots=True)
class RealmSnapshot:
    """A realm's row as this process last read it: detached and immutable, never attached to a
    session, so a request reads it without touching its session. What the request paths read
    (``g.realm``, :attr:`RealmContext.realm <authserver.state.RealmContext.realm>`); code that
    writes the realm row loads it (:func:`_existing`), and code that needs a mapped row (a
    relationship to set) takes :func:`get_realm`'s."""

    id: int
    name: str
    display_name: str | None
    created_at: int
    updated_at: int | None


_SNAPSHOT_COLUMNS = (Realm.id, Realm.name, Realm.display_name, Realm.created_at, Realm.updated_at)


def realm_snapshot(name: str) -> RealmSnapshot:
    """The realm named ``name``, as a :class:`RealmSnapshot`. A process keeps the snapshots it
    has read for KEY_CACHE_SECONDS and answers from memory (hot path: no query, no session);
    past that it reads the row again (a realm deleted, or deleted and created again, or renamed
    for display, elsewhere; this process's own changes are seen at once), and keeps answering
    from memory while the database is down (discovery, JWKS)."""
    state = app_state()
    known = state.realm_rows.get(name)
    if known is not None and known[1] > state.clock():
        return known[0]
    try:
        row = db.session.execute(select(*_SNAPSHOT_COLUMNS).where(Realm.name == name)).first()
    except SQLAlchemyError:
        if known is None:
            raise
        db.session.rollback()
        return known[0]
    if row is None:
        state.realm_rows.pop(name, None)
        raise NotFound(f"no realm named {name!r}")
    snapshot = RealmSnapshot(*row)
    state.realm_rows[name] = (snapshot, state.clock() + current_app.config["KEY_CACHE_SECONDS"])
    return snapshot


def get_realm(name: str) -> Realm:
    """The realm named ``name`` as a row of the session, for the admin API and the CLI (whose
    services may set a relationship to it): built from :func:`realm_snapshot` (same cache, same
    staleness bound) and attached without a query. Its ``display_name`` and ``updated_at``
    load from the database when read; code that writes the row reads it itself (:func:`_existing`)."""
    snapshot = realm_snapshot(name)
    realm = Realm(id=snapshot.id, name=snapshot.name, created_at=snapshot.created_at)
    make_transient_to_detached(realm)
    return db.session.merge(realm, load=False)


def forget_realm(name: str) -> None:
    """Drop this process's snapshot of the realm (after a change to its row commits)."""
    app_state().realm_rows.pop(name, None)


def find_realm(name: str) -> Realm | None:
    return db.session.scalar(select(Realm).where(Realm.name == name))


def list_realms(limit: int | None = None, cursor: str | None = None) -> Page:
    return paging.page(select(Realm), ORDER, limit, cursor)


def create_realm(name: str, alg: str | None = None, actor: str = "system") -> Realm:
    """Create a realm with an active signing key, audited, in one transaction."""
    validate_realm_name(name)
    svc = app_state()
    now = int(svc.clock())
    realm = Realm(name=name, created_at=now, updated_at=now)
    db.session.add(realm)
    try:
        db.session.flush()
        key = svc.keys.create_active_key(realm, alg)
        audit.record(realm, actor, "realm.create", "realm", name,
                     after={**realm.to_dict(), "key": {"kid": key.kid, "alg": key.alg}})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"realm {name!r} already exists") from None
    except Exception:
        db.session.rollback()
        raise
    return realm


def ensure_realm(name: str, alg: str | None = None, actor: str = "system") -> tuple[Realm, bool]:
    """The realm, created if missing; ``True`` when it was created now."""
    existing = find_realm(name)
    if existing is not None:
        return existing, False
    return create_realm(name, alg, actor), True


def show_realm(name: str) -> dict[str, Any]:
    """The realm, its issuer path and what it holds (what deleting it would delete)."""
    realm = _existing(name)
    counts = {noun: db.session.scalar(select(func.count()).select_from(model).where(model.realm_id == realm.id))
              for noun, model in COUNTED.items()}
    return {**realm.to_dict(), "admin_realm": name == current_app.config["ADMIN_REALM"], "counts": counts}


def update_realm(name: str, data: dict[str, Any], actor: str) -> Realm:
    """Change the fields given (``display_name``: text, or null to remove it)."""
    data = validation.only_fields(data, UPDATABLE, "realm")
    realm = _existing(name)
    before = realm.to_dict()
    if "display_name" in data:
        realm.display_name = validation.text(data["display_name"], "display_name", 100, required=False)
    realm.updated_at = int(app_state().clock())
    audit.record(realm, actor, "realm.update", "realm", name, before=before, after=realm.to_dict())
    commit_admin_change()
    forget_realm(name)  # this process's pages show the new display name at once
    return realm


def delete_realm(name: str, actor: str) -> dict[str, Any]:
    """Delete the realm and every row it holds (keys, clients, backends, IdPs, users, usage,
    audit log, events, webhooks); recorded in ADMIN_REALM's audit log. Returns what it held."""
    admin_realm = current_app.config["ADMIN_REALM"]
    if name == admin_realm:
        raise Conflict(f"realm {name!r} is ADMIN_REALM: its admin clients administer every realm, "
                       "so it cannot be deleted")
    held = show_realm(name)
    realm = _existing(name)
    recorder = find_realm(admin_realm)
    if recorder is not None:
        audit.record(recorder, actor, "realm.delete", "realm", name, before=held)
    db.session.execute(delete(Realm).where(Realm.id == realm.id))
    commit_admin_change()
    forget_realm(name)
    app_state().keys.invalidate(name)
    return held


def _existing(name: str) -> Realm:
    """The realm's row, read now (not the process's copy of it)."""
    realm = find_realm(name) if isinstance(name, str) else None
    if realm is None:
        raise NotFound(f"no realm named {name!r}")
    return realm
