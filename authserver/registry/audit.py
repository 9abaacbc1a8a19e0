"""The audit log: every admin change, recorded in the transaction that makes it (realms and
signing keys included).

It reads the app's clock from ``current_app.extensions`` rather than importing the app state,
so the key service, which the app state builds, can record its rotations here.
"""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from authserver.extensions import db
from authserver.models import AuditEvent, Realm
from authserver.registry import paging
from authserver.registry.paging import Order, Page

ORDER = Order("audit", (AuditEvent.id,), descending=True)
SECRET_FIELDS = frozenset({"client_secret", "secret", "credential", "registration_access_token",
                           "initial_access_token", "private_key", "api_key_secret", "api_secret"})


def record(realm: Realm, actor: str, action: str, target_type: str, target_id: str,
           before: dict | None = None, after: dict | None = None) -> None:
    """Add an audit event to the current transaction (the caller commits)."""
    db.session.add(AuditEvent(
        realm_id=realm.id, at=int(current_app.extensions["authserver"].clock()), actor=actor, action=action,
        target_type=target_type, target_id=target_id,
        before=_redacted(before), after=_redacted(after)))


def list_events(realm: Realm, limit: int = 100, cursor: str | None = None, *, action: str | None = None,
                actor: str | None = None, target_type: str | None = None, target_id: str | None = None) -> Page:
    """A page of the realm's audit log, newest first; filters match exactly."""
    query = select(AuditEvent).where(AuditEvent.realm_id == realm.id)
    for column, value, size in ((AuditEvent.action, action, 64), (AuditEvent.actor, actor, 200),
                                (AuditEvent.target_type, target_type, 32), (AuditEvent.target_id, target_id, 255)):
        if paging.text_filter(value, column.key, size) is not None:
            query = query.where(column == value)
    return paging.page(query, ORDER, limit, cursor)


def _redacted(state: dict | None) -> dict | None:
    if state is None:
        return None
    return {k: ("<redacted>" if k in SECRET_FIELDS else v) for k, v in state.items()}
