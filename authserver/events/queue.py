"""The delivery queue in the database: claim due deliveries, record attempts, retry with
exponential backoff and jitter, dead-letter after the maximum age, prune what is finished.

Claims are leases (``claim_token``, ``claimed_until``), taken in a short transaction that
locks the chosen rows with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers
never claim the same delivery; on SQLite a :class:`~authserver.models.WorkerLease` lets one
worker run at a time. A claim outlives the attempt it covers (``WEBHOOK_CLAIM_SECONDS`` >
``WEBHOOK_TIMEOUT``); a worker that dies leaves a claim that expires, and the delivery is
tried again: at least once.

Order: a delivery is due only when no earlier pending delivery of the same subscription
shares one of its order keys (the user's ``_id``; both users of a merge; an admin object),
so a user's later event waits for the earlier one, however many workers run.
"""

from __future__ import annotations

import json
import math
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from authserver.crypto import DecryptionError
from authserver.events import signing
from authserver.events.delivery import FAILED, Outcome
from authserver.events.runtime import WebhookSettings
from authserver.events.subscriptions import signing_secrets
from authserver.extensions import db
from authserver.models import DeliveryAttempt, Event, WebhookDelivery, WebhookSubscription, WorkerLease
from authserver.models.event import DEAD, DELIVERED, PENDING

SQLITE_LEASE = "webhook-worker"
UNREADABLE_SECRET = "cannot sign: the subscription's secret does not open (was SECRET_KEY changed?)"


@dataclass(frozen=True)
class Job:
    """A claimed delivery, ready to send: the signed request and the claim it holds."""

    delivery_pk: int
    delivery_id: str
    claim_token: str
    url: str
    body: bytes
    headers: dict[str, str]


def retry_delay(failures: int, base: int, cap: int, rand: Callable[[], float] = random.random) -> int:
    """Seconds before the next try after ``failures`` failed attempts: ``base·2^(n-1)``,
    capped, with equal jitter (between half and all of it), so receivers coming back are
    not hit by every sender at once."""
    ceiling = min(cap, base * 2 ** min(failures - 1, 40))
    return max(1, math.ceil(ceiling / 2 + rand() * ceiling / 2))


def _due(now: int):
    earlier = aliased(WebhookDelivery)
    d = WebhookDelivery
    blocked = exists().where(
        earlier.subscription_id == d.subscription_id, earlier.state == PENDING, earlier.id < d.id,
        or_(earlier.order_key == d.order_key, earlier.order_key == d.order_key_2,
            earlier.order_key_2 == d.order_key, earlier.order_key_2 == d.order_key_2))
    return (select(d.id).join(WebhookSubscription, WebhookSubscription.id == d.subscription_id)
            .where(d.state == PENDING, d.next_attempt_at <= now,
                   or_(d.claimed_until.is_(None), d.claimed_until <= now),
                   WebhookSubscription.enabled.is_(True), ~blocked)
            .order_by(d.id))


def claim(limit: int, settings: WebhookSettings, now: int) -> list[Job]:
    """Claim up to ``limit`` due deliveries (one transaction) and build their signed requests."""
    query = _due(now).limit(limit)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(of=WebhookDelivery, skip_locked=True)
    ids = list(db.session.scalars(query))
    claimed = {}
    for pk in ids:
        token = secrets.token_hex(16)
        result = db.session.execute(
            update(WebhookDelivery).where(
                WebhookDelivery.id == pk, WebhookDelivery.state == PENDING,
                or_(WebhookDelivery.claimed_until.is_(None), WebhookDelivery.claimed_until <= now))
            .values(claim_token=token, claimed_until=now + settings.claim_seconds))
        if result.rowcount:
            claimed[pk] = token
    db.session.commit()
    if not claimed:
        return []
    rows = list(db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(claimed))
                                   .order_by(WebhookDelivery.id)).unique())
    jobs = []
    for row in rows:
        try:
            jobs.append(_job(row, claimed[row.id], now))
        except DecryptionError:  # fails like an unreachable receiver: retried, then dead
            unsigned = Job(row.id, row.public_id, claimed[row.id], row.subscription.url, b"", {})
            record(unsigned, Outcome(FAILED, 0, error=UNREADABLE_SECRET), settings, now)
    return jobs


def _job(delivery: WebhookDelivery, token: str, now: int) -> Job:
    event, subscription = delivery.event, delivery.subscription
    body = json.dumps(event.envelope(subscription.realm.name), separators=(",", ":"),
                      ensure_ascii=False).encode()
    headers = signing.headers(signing_secrets(subscription, now), event.public_id, now, body)
    return Job(delivery.id, delivery.public_id, token, subscription.url, body, headers)


def record(job: Job, outcome: Outcome, settings: WebhookSettings, now: int,
           rand: Callable[[], float] = random.random) -> str | None:
    """Store the attempt and the delivery's new state; returns that state (None: the
    delivery is gone, its subscription deleted meanwhile)."""
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.id == job.delivery_pk)
                                 .execution_options(populate_existing=True))
    if delivery is None:
        db.session.rollback()
        return None
    db.session.add(DeliveryAttempt(
        delivery_id=delivery.id, attempted_at=now, duration_ms=outcome.duration_ms, result=outcome.result,
        status_code=outcome.status, error=outcome.error, response_excerpt=outcome.excerpt))
    delivery.attempts += 1
    delivery.last_status, delivery.last_error = outcome.status, outcome.error
    ours = delivery.claim_token == job.claim_token
    if delivery.state == PENDING and outcome.delivered:
        delivery.state, delivery.finished_at = DELIVERED, now
    elif delivery.state == PENDING and ours:
        delay = retry_delay(delivery.attempts, settings.retry_base, settings.retry_max, rand)
        if now + delay > delivery.created_at + settings.max_age:
            delivery.state, delivery.finished_at = DEAD, now
        else:
            delivery.next_attempt_at = now + delay
    if ours:
        delivery.claim_token = delivery.claimed_until = None
    db.session.commit()
    return delivery.state


def release(jobs: list[Job]) -> None:
    """Give back claims not attempted (a worker stopping): another worker takes them now."""
    for job in jobs:
        db.session.execute(update(WebhookDelivery).where(
            WebhookDelivery.id == job.delivery_pk, WebhookDelivery.claim_token == job.claim_token)
            .values(claim_token=None, claimed_until=None))
    db.session.commit()


def prune(now: int, retention: int) -> None:
    """Forget finished deliveries (and their attempts) and events older than the retention."""
    cutoff = now - retention
    db.session.execute(delete(WebhookDelivery).where(
        WebhookDelivery.state != PENDING, WebhookDelivery.finished_at < cutoff))
    has_delivery = exists().where(WebhookDelivery.event_id == Event.id)
    db.session.execute(delete(Event).where(Event.occurred_at < cutoff, ~has_delivery))
    db.session.commit()


def acquire_lease(holder: str, now: int, seconds: int, name: str = SQLITE_LEASE) -> bool:
    """Take or renew the named lease; False while another holder's lease runs."""
    taken = db.session.execute(update(WorkerLease).where(
        WorkerLease.name == name, or_(WorkerLease.expires_at <= now, WorkerLease.holder == holder))
        .values(holder=holder, expires_at=now + seconds)).rowcount
    if not taken:
        try:
            db.session.execute(insert(WorkerLease).values(name=name, holder=holder, expires_at=now + seconds))
        except IntegrityError:
            db.session.rollback()
            return False
    db.session.commit()
    return True


def release_lease(holder: str, name: str = SQLITE_LEASE) -> None:
    db.session.execute(delete(WorkerLease).where(WorkerLease.name == name, WorkerLease.holder == holder))
    db.session.commit()


def queue_stats(now: int) -> tuple[int, int | None]:
    """Pending deliveries and the age in seconds of the oldest (metrics)."""
    count, oldest = db.session.execute(select(func.count(), func.min(WebhookDelivery.created_at))
                                       .where(WebhookDelivery.state == PENDING)).one()
    return count, (now - oldest if oldest is not None else None)

