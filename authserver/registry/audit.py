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

SECRET_FIELDS = frozenset({"client_secret", "secret", "credential", "registration_access_token",
                           "initial_access_token", "private_key", "api_key_secret", "api_secret"})


def record(realm: Realm, actor: str, action: str, target_type: str, target_id: str,
           before: dict | None = None, after: dict | None = None) -> None:
    """Add an audit event to the current transaction (the caller commits)."""
    db.session.add(AuditEvent(
        realm_id=realm.id, at=int(current_app.extensions["authserver"].clock()), actor=actor, action=action,
        target_type=target_type, target_id=target_id,
        before=_redacted(before), after=_redacted(after)))


def list_events(realm: Realm, limit: int = 100) -> list[AuditEvent]:
    query = (select(AuditEvent).where(AuditEvent.realm_id == realm.id)
             .order_by(AuditEvent.id.desc()).limit(limit))
    return list(db.session.scalars(query))


def _redacted(state: dict | None) -> dict | None:
    if state is None:
        return None
    return {k: ("<redacted>" if k in SECRET_FIELDS else v) for k, v in state.items()}
