"""Realms: one per chat application. Shared by the CLI and the admin API."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from authserver.errors import Conflict, InvalidInput, NotFound
from authserver.extensions import db
from authserver.models import Realm
from authserver.registry import audit
from authserver.state import app_state

REALM_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\Z")


def validate_realm_name(name: str) -> str:
    if not isinstance(name, str) or not REALM_NAME.match(name):
        raise InvalidInput(f"invalid realm name {name!r}: use 1-63 lower-case letters, digits "
                           "and inner hyphens (a URL-safe slug)")
    return name


def get_realm(name: str) -> Realm:
    """The realm named ``name``. Realms are never renamed or deleted, so a process keeps
    the rows it has read and attaches a copy to the session without a query (hot path;
    also lets discovery answer while the database is down)."""
    known = app_state().realm_rows.get(name)
    if known is not None:
        realm = Realm(id=known[0], name=name, created_at=known[1])
        make_transient_to_detached(realm)
        return db.session.merge(realm, load=False)
    realm = db.session.scalar(select(Realm).where(Realm.name == name))
    if realm is None:
        raise NotFound(f"no realm named {name!r}")
    app_state().realm_rows[name] = (realm.id, realm.created_at)
    return realm


def find_realm(name: str) -> Realm | None:
    return db.session.scalar(select(Realm).where(Realm.name == name))


def list_realms() -> list[Realm]:
    return list(db.session.scalars(select(Realm).order_by(Realm.name)))


def create_realm(name: str, alg: str | None = None, actor: str = "system") -> Realm:
    """Create a realm with an active signing key, audited, in one transaction."""
    validate_realm_name(name)
    svc = app_state()
    realm = Realm(name=name, created_at=int(svc.clock()))
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
