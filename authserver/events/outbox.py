"""The transactional outbox: :func:`publish` adds an event and its deliveries to the
current database transaction, so an event exists exactly when its change was committed.

Every service function that changes something calls it before its commit; nothing is sent
from here: ``authserver worker`` delivers (:mod:`authserver.events.worker`), so the web
process never waits on a receiver.

:func:`publish` runs on every first login, so it writes as SQLAlchemy Core statements built
once, on the transaction's connection: one read of the realm's enabled subscriptions, one
``INSERT`` of the event, one of its deliveries (if any), and no unit-of-work flush.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, insert, select

from authserver.errors import InvalidInput
from authserver.extensions import db
from authserver.models import Event, Realm, WebhookDelivery, WebhookSubscription
from authserver.models.event import PENDING

EVENT_TYPES = (
    "user.created", "user.identified", "user.merged", "user.updated", "user.disabled",
    "user.enabled", "user.deleted", "user.tokens_revoked", "client.tokens_revoked",
    "session.created", "session.ended",
    "client.created", "client.updated", "client.deleted",
    "backend.created", "backend.updated", "backend.deleted",
    "idp.created", "idp.updated", "idp.deleted",
    "key.rotated", "key.activated", "key.retired",
)
TEST_EVENT = "webhook.test"  # sent only by `webhooks test`, to one subscription
# Never in a payload, at any depth, whatever a caller passes.
SECRET_KEYS = frozenset({
    "client_secret", "secret", "secret_hash", "credential", "registration_access_token",
    "initial_access_token", "private_key", "shared_secret", "api_key_secret", "api_secret",
    "session_token", "access_token", "refresh_token", "id_token", "subject_token", "actor_token",
    "token", "token_hash", "password"})
_OBJECT_KEYS = {"client": "client_id", "backend": "audience", "idp": "name"}


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def publish(realm: Realm, type: str, data: Mapping[str, Any], actor: str) -> Event:
    """Add the event ``type`` with ``data`` to the current transaction, with one pending
    delivery per enabled subscription of ``realm`` whose filter matches; the caller commits
    (a rollback discards them with the change). ``actor`` is who acted, as in the audit log
    (``cli``, ``client:<client_id>``, ``system``…). Returns the event as written."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    event = _event(realm, type, data, actor)
    # Core on the transaction's connection: no autoflush, so the caller's pending change still
    # reaches the database at its own commit, where a unique violation becomes a 409.
    connection = db.session.connection()
    subscribers = [id for id, filters in connection.execute(_enabled_subscriptions(), {"realm": realm.id})
                   if matches(filters, type)]
    event.id = connection.execute(_insert(Event), _values(Event, event)).inserted_primary_key[0]
    if subscribers:
        now = event.occurred_at
        connection.execute(_insert(WebhookDelivery), [{
            "public_id": new_id("dlv"), "realm_id": realm.id, "subscription_id": subscription_id,
            "event_id": event.id, "order_key": event.order_key, "order_key_2": event.order_key_2,
            "state": PENDING, "attempts": 0, "next_attempt_at": now, "created_at": now, "replay_of": None}
            for subscription_id in subscribers])
    return event


def publish_test(realm: Realm, subscription: WebhookSubscription, actor: str) -> WebhookDelivery:
    """A ``webhook.test`` event for one subscription only (``authserver webhooks test``)."""
    data = {"subscription": subscription.public_id, "message": "a test event from authserver"}
    event = _event(realm, TEST_EVENT, data, actor)
    db.session.add(event)
    return add_delivery(event, subscription)


def _event(realm: Realm, type: str, data: Mapping[str, Any], actor: str) -> Event:
    clean = scrubbed(dict(data))
    first, second = order_keys(type, clean)
    return Event(public_id=new_id("evt"), realm_id=realm.id, type=type, occurred_at=_now(),
                 actor=str(actor)[:200], data=clean, order_key=first, order_key_2=second)


def add_delivery(event: Event, subscription: WebhookSubscription, replay_of: str | None = None) -> WebhookDelivery:
    """A pending delivery of ``event`` to ``subscription``, due now (current transaction)."""
    now = _now()
    delivery = WebhookDelivery(
        public_id=new_id("dlv"), realm_id=event.realm_id, subscription=subscription, event=event,
        order_key=event.order_key, order_key_2=event.order_key_2, state=PENDING, attempts=0,
        next_attempt_at=now, created_at=now, replay_of=replay_of)
    db.session.add(delivery)
    return delivery


@cache
def _enabled_subscriptions():
    table = WebhookSubscription.__table__
    return select(table.c.id, table.c.event_types).where(
        table.c.realm_id == bindparam("realm"), table.c.enabled.is_(True)).order_by(table.c.id)


@cache
def _insert(model):
    return insert(model.__table__)


def _values(model, row) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in model.__table__.columns
            if getattr(row, column.key) is not None}


def matches(filters: list[str] | None, type: str) -> bool:
    """An empty filter takes every event type; ``user.*`` takes every ``user.`` type."""
    if not filters:
        return True
    return any(f == type or (f.endswith(".*") and type.startswith(f[:-1])) for f in filters)


def validate_filters(value: Any) -> list[str]:
    """An event-type filter: known types or ``noun.*``, space-separated or a list."""
    items = value.split() if isinstance(value, str) else value
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise InvalidInput("events: must be a space-separated string or a list of event types")
    nouns = {t.split(".")[0] + ".*" for t in EVENT_TYPES}
    unknown = [i for i in items if i not in EVENT_TYPES and i not in nouns]
    if unknown:
        raise InvalidInput(f"events: unknown event type(s) {', '.join(unknown)} "
                           f"(known: {', '.join(EVENT_TYPES)}, or noun.* such as user.*)")
    return list(dict.fromkeys(items))


def order_keys(type: str, data: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """What keeps deliveries in order: the user (both users of a merge), else the object."""
    noun = type.split(".")[0]
    if type == "user.merged":
        return _uid(data.get("surviving")), _uid(data.get("discarded"))
    if noun in ("user", "session"):
        return _uid(data), None
    if noun in _OBJECT_KEYS and data.get(_OBJECT_KEYS[noun]) is not None:
        return f"{noun}:{data[_OBJECT_KEYS[noun]]}", None
    if noun == "key":
        return "keys", None
    return None, None


def _uid(value: Any) -> str | None:
    uid = value.get("_id") if isinstance(value, Mapping) else None
    return f"user:{uid}" if isinstance(uid, str) else None


def scrubbed(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): scrubbed(v) for k, v in value.items() if str(k) not in SECRET_KEYS}
    if isinstance(value, list | tuple):
        return [scrubbed(v) for v in value]
    return value


def _now() -> int:
    return int(current_app.extensions["authserver"].clock())
