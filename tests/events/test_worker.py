"""Delivery by the worker: Standard Webhooks signatures verified by ``standardwebhooks``
on every delivery, at least once, in order per user, backoff, dead letters, replay,
secret rotation, several workers on PostgreSQL."""

from __future__ import annotations

import math
import os
import threading

import pytest
from sqlalchemy import select

from authserver.errors import Conflict
from authserver.events import outbox, subscriptions
from authserver.events.worker import Worker
from authserver.extensions import db
from authserver.models import DeliveryAttempt, WebhookDelivery
from authserver.registry.realms import get_realm
from tests.events.conftest import WEBHOOK_CONFIG, pending, run_until_idle, subscribe
from tests.factories import make_client


def publish_user_events(app, plan: list[str]) -> list[str]:
    """One ``user.updated`` per entry of ``plan`` (the user's ``_id``), one transaction each."""
    ids = []
    with app.app_context():
        realm = get_realm("default")
        for seq, uid in enumerate(plan):
            ids.append(outbox.publish(realm, "user.updated", {"_id": uid, "seq": seq, "changed": ["name"]},
                                      "test").public_id)
            db.session.commit()
    return ids


def per_user(receiver, uid: str) -> list[int]:
    return [r.body["data"]["seq"] for r in receiver.received if r.body["data"].get("_id") == uid]


def test_every_delivery_is_a_verified_standard_webhook(app, receiver, clock):
    sub = subscribe(app, receiver)
    make_client(app, client_id="web", name="Web")
    assert Worker(app).drain() == 1
    assert receiver.unverified == []
    [got] = receiver.received
    with app.app_context():
        [delivery] = subscriptions.list_deliveries(get_realm("default"), sub["id"])
        assert delivery.state == "delivered" and delivery.attempts == 1
        assert got.webhook_id == delivery.event.public_id == got.body["id"]
    assert got.headers["Webhook-Timestamp"] == str(int(clock()))
    assert set(got.body) == {"id", "type", "realm", "occurred_at", "actor", "data"}
    assert got.body["type"] == "client.created" and got.body["realm"] == "default"
    assert got.body["data"]["client_id"] == "web" and got.body["actor"] == "test"
    assert got.body["occurred_at"].endswith("Z") and "T" in got.body["occurred_at"]


def test_a_receiver_down_for_a_while_gets_every_event_in_order(app, receiver, clock):
    subscribe(app, receiver)
    receiver.stop()
    plan = ["alice", "bob", "alice", "alice", "bob", "carol", "alice"]
    ids = publish_user_events(app, plan)
    worker = Worker(app, concurrency=3)
    for _ in range(4):  # down: every try fails; only each user's first event is tried
        worker.drain()
        clock.advance(700)
    with app.app_context():
        tried = db.session.scalars(select(WebhookDelivery).where(WebhookDelivery.attempts > 0)).all()
        assert sorted(d.event.data["seq"] for d in tried) == [0, 1, 5]
        assert all(d.state == "pending" for d in tried)
    receiver.start()
    run_until_idle(worker, app, clock)
    assert receiver.unverified == []
    assert sorted(receiver.ids()) == sorted(ids) and len(set(receiver.ids())) == len(ids)
    assert per_user(receiver, "alice") == [0, 2, 3, 6]
    assert per_user(receiver, "bob") == [1, 4]
    assert per_user(receiver, "carol") == [5]


def test_an_erroring_receiver_is_retried_with_backoff_then_dead_lettered(app, receiver, clock):
    sub = subscribe(app, receiver)
    receiver.status = 500
    [event_id, later_id] = publish_user_events(app, ["alice", "alice"])
    worker = Worker(app, rand=lambda: 0.0)  # jitter at its low end: half of each step
    created, delays = clock(), []
    while pending(app) == 2:
        worker.drain()
        with app.app_context():
            first = subscriptions.list_deliveries(None, sub["id"], limit=2)[-1]
            if first.state == "pending":
                delays.append(first.next_attempt_at - int(clock()))
                clock.advance(first.next_attempt_at - clock())
    base, cap = WEBHOOK_CONFIG["WEBHOOK_RETRY_BASE_SECONDS"], WEBHOOK_CONFIG["WEBHOOK_RETRY_MAX_SECONDS"]
    assert delays == [math.ceil(min(cap, base * 2 ** n) / 2) for n in range(len(delays))]
    assert first.state == "dead" and first.attempts == len(delays) + 1
    age, next_delay = clock() - created, math.ceil(min(cap, base * 2 ** len(delays)) / 2)
    assert age <= WEBHOOK_CONFIG["WEBHOOK_MAX_AGE_SECONDS"] < age + next_delay  # its next try would be too old
    # the later event of the same user waited until the earlier one was dead
    assert receiver.ids()[:first.attempts] == [event_id] * first.attempts
    assert set(receiver.ids()[first.attempts:]) <= {later_id}
    receiver.status = 200
    run_until_idle(worker, app, clock)
    assert receiver.ids()[-1] == later_id


def test_jitter_spreads_retries_between_half_and_all_of_the_step(app):
    from authserver.events.queue import retry_delay

    assert [retry_delay(n, 5, 600, lambda: 1.0) for n in (1, 2, 3, 10)] == [5, 10, 20, 600]
    assert [retry_delay(n, 5, 600, lambda: 0.0) for n in (1, 2, 3, 10)] == [3, 5, 10, 300]


def test_replay_keeps_the_original_webhook_id(app, receiver):
    sub = subscribe(app, receiver)
    other = subscribe(app, receiver, events="client.*")
    make_client(app, client_id="web")
    with app.app_context():
        [delivery] = subscriptions.list_deliveries(None, sub["id"])
        delivery_id, event_id = delivery.public_id, delivery.event.public_id
        with pytest.raises(Conflict, match="pending"):
            subscriptions.replay(None, delivery_id, "test")
    Worker(app).drain()
    with app.app_context():
        [again] = subscriptions.replay(None, delivery_id, "test")
        assert again.replay_of == delivery_id and again.subscription.public_id == sub["id"]
        to_all = subscriptions.replay(get_realm("default"), event_id, "test")
        assert sorted(d.subscription.public_id for d in to_all) == sorted([sub["id"], other["id"]])
    Worker(app, concurrency=4).drain()
    assert receiver.ids() == [event_id] * 5


def test_secret_rotation_signs_with_both_secrets(app, receiver, clock):
    sub = subscribe(app, receiver)
    old = receiver.secrets[0]
    with app.app_context():
        new = subscriptions.rotate_secret(None, sub["id"], "test", overlap_seconds=3600).secret
    receiver.secrets.append(new)
    make_client(app, client_id="web")
    Worker(app).drain()
    [during] = receiver.received
    assert during.verified_by == [old, new]
    assert len(during.headers["Webhook-Signature"].split(" ")) == 2
    clock.advance(3601)
    make_client(app, client_id="web2")
    Worker(app).drain()
    assert receiver.received[-1].verified_by == [new]


def test_test_events_and_paused_subscriptions(app, receiver):
    sub = subscribe(app, receiver)
    quiet = subscribe(app, receiver)
    with app.app_context():
        delivery = subscriptions.send_test(None, sub["id"], "test")
        assert delivery.event.type == "webhook.test"
        subscriptions.update_subscription(None, quiet["id"], {"enabled": False}, "test")
    Worker(app).drain()
    assert [r.type for r in receiver.received] == ["webhook.test"]
    make_client(app, client_id="web")
    with app.app_context():
        subscriptions.update_subscription(None, sub["id"], {"enabled": False}, "test")
        make_client(app, client_id="web2")
    assert Worker(app).drain() == 0  # paused: the client.created waits, nothing new is queued
    with app.app_context():
        subscriptions.update_subscription(None, sub["id"], {"enabled": True}, "test")
    Worker(app).drain()
    assert [r.body["data"].get("client_id") for r in receiver.received[1:]] == ["web"]


def test_a_deleted_subscription_takes_its_deliveries(app, receiver):
    sub = subscribe(app, receiver)
    make_client(app, client_id="web")
    with app.app_context():
        subscriptions.delete_subscription(None, sub["id"], "test")
        assert db.session.scalars(select(WebhookDelivery)).all() == []
        assert db.session.scalars(select(DeliveryAttempt)).all() == []
    assert Worker(app).drain() == 0


@pytest.mark.skipif(not os.environ.get("AUTHSERVER_TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="row locks with SKIP LOCKED: PostgreSQL")
def test_two_workers_on_postgresql_deliver_each_event_once(make_app, app, receiver, clock):
    subscribe(app, receiver)
    plan = [f"user-{i % 6}" for i in range(36)]
    ids = publish_user_events(app, plan)
    workers = [Worker(make_app(**WEBHOOK_CONFIG), concurrency=3) for _ in range(2)]
    start = threading.Barrier(2)

    def work(worker):
        start.wait()
        while pending(app):
            worker.drain()

    threads = [threading.Thread(target=work, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(receiver.ids()) == sorted(ids)
    for i in range(6):
        assert per_user(receiver, f"user-{i}") == [n for n, uid in enumerate(plan) if uid == f"user-{i}"]


@pytest.mark.skipif(os.environ.get("AUTHSERVER_TEST_DATABASE_URL", "").startswith("postgresql"),
                    reason="the SQLite lease")
def test_on_sqlite_one_worker_at_a_time(app, receiver, clock):
    subscribe(app, receiver)
    first, second = Worker(app), Worker(app)
    publish_user_events(app, ["alice"])
    assert first.run_once() == 1  # holds the lease while it runs
    publish_user_events(app, ["bob"])
    assert second.run_once() == 0
    clock.advance(WEBHOOK_CONFIG.get("WEBHOOK_CLAIM_SECONDS", 60))  # a lease not renewed expires
    assert second.run_once() == 1
    assert first.run_once() == 0


def test_a_secret_that_does_not_open_fails_that_delivery_only(app, receiver):
    from authserver.events.queue import UNREADABLE_SECRET
    from authserver.models import WebhookSubscription

    broken, fine = subscribe(app, receiver), subscribe(app, receiver)
    with app.app_context():
        row = db.session.scalar(select(WebhookSubscription).where(WebhookSubscription.public_id == broken["id"]))
        row.secret_sealed = b"\x01" + bytes(40)
        db.session.commit()
    make_client(app, client_id="web")
    Worker(app, concurrency=2).drain()
    assert len(receiver.received) == 1
    with app.app_context():
        [failed] = subscriptions.list_deliveries(None, broken["id"])
        assert failed.state == "pending" and failed.last_error == UNREADABLE_SECRET
        assert subscriptions.list_deliveries(None, fine["id"])[0].state == "delivered"
