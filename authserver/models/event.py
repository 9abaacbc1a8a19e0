"""The event outbox and webhook delivery state (Standard Webhooks 1.0).

An :class:`Event` is written in the transaction of the change it describes, with one
:class:`WebhookDelivery` per enabled subscription whose filter matches. A delivery is
``pending`` until a 2xx answer (``delivered``) or until its maximum age passes
(``dead``). A worker claims a pending delivery by setting ``claim_token`` and
``claimed_until``: a lease, so a worker that dies loses nothing — the claim expires and
another worker retries. ``order_key`` / ``order_key_2`` (the user's ``_id``, or the admin
object) keep deliveries of one key in order within a subscription.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from authserver.extensions import db
from authserver.models.realm import Realm

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
DELIVERY_STATES = (PENDING, DELIVERED, DEAD)


def rfc3339(seconds: int | float | None) -> str | None:
    if seconds is None:
        return None
    return datetime.fromtimestamp(int(seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class WebhookSubscription(db.Model):
    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    event_types: Mapped[list] = mapped_column(JSON, default=list)  # [] = every event type
    description: Mapped[str | None] = mapped_column(String(200), nullable=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    previous_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    previous_secret_expires_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)

    realm: Mapped[Realm] = relationship(lazy="joined")

    def to_dict(self) -> dict[str, Any]:
        """Everything an admin may see; never a secret."""
        return {"id": self.public_id, "realm": self.realm.name, "url": self.url,
                "events": list(self.event_types or []), "description": self.description,
                "enabled": self.enabled, "previous_secret_expires_at": self.previous_secret_expires_at,
                "created_at": self.created_at, "updated_at": self.updated_at}


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[int] = mapped_column(BigInteger, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict] = mapped_column(JSON)
    order_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    order_key_2: Mapped[str | None] = mapped_column(String(300), nullable=True)

    def envelope(self, realm_name: str) -> dict[str, Any]:
        """The body every receiver gets: ``{id, type, realm, occurred_at, actor, data}``."""
        return {"id": self.public_id, "type": self.type, "realm": realm_name,
                "occurred_at": rfc3339(self.occurred_at), "actor": self.actor, "data": self.data}


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "state", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "subscription_id", "state", "order_key"),
        Index("ix_webhook_deliveries_order_2", "subscription_id", "state", "order_key_2"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"), index=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    order_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    order_key_2: Mapped[str | None] = mapped_column(String(300), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[int] = mapped_column(BigInteger)
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    claimed_until: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    replay_of: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    finished_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)

    event: Mapped[Event] = relationship(lazy="joined")
    subscription: Mapped[WebhookSubscription] = relationship(lazy="joined")
    attempt_rows: Mapped[list[DeliveryAttempt]] = relationship(
        order_by="DeliveryAttempt.id", cascade="all, delete-orphan", passive_deletes=True)

    def to_dict(self, with_attempts: bool = True) -> dict[str, Any]:
        data = {"id": self.public_id, "subscription": self.subscription.public_id,
                "event": self.event.public_id, "type": self.event.type, "state": self.state,
                "attempts": self.attempts, "next_attempt_at": self.next_attempt_at,
                "created_at": self.created_at, "finished_at": self.finished_at,
                "last_status": self.last_status, "last_error": self.last_error,
                "replay_of": self.replay_of}
        if with_attempts:
            data["attempt_log"] = [a.to_dict() for a in self.attempt_rows]
        return data


class DeliveryAttempt(db.Model):
    """One HTTP attempt: when, how long, the answer (status and a short excerpt) or the error."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
                                             index=True)
    attempted_at: Mapped[int] = mapped_column(BigInteger)
    duration_ms: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(16))  # delivered | failed | refused | timeout
    status_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    response_excerpt: Mapped[str | None] = mapped_column(String(512), nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return {"attempted_at": self.attempted_at, "duration_ms": self.duration_ms,
                "result": self.result, "status_code": self.status_code, "error": self.error,
                "response_excerpt": self.response_excerpt}


class WorkerLease(db.Model):
    """A named lease a worker holds while it works (SQLite: one worker at a time)."""

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[int] = mapped_column(BigInteger)
