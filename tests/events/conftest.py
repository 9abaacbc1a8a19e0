"""Fixtures for the events suite: a clock that starts now (receivers check
``webhook-timestamp`` against it), an app that may deliver to loopback, a verifying
receiver, and helpers that drive the worker round by round."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import standardwebhooks.webhooks as standard_webhooks
from sqlalchemy import func, select

from authserver.clock import FrozenClock
from authserver.events import subscriptions
from authserver.events.worker import Worker
from authserver.extensions import db
from authserver.models import WebhookDelivery
from authserver.models.event import PENDING
from authserver.registry.realms import create_realm, get_realm
from tests.events.receiver import Receiver

WEBHOOK_CONFIG = {"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True, "WEBHOOK_CONNECT_TIMEOUT": 1.0,
                  "WEBHOOK_TIMEOUT": 3.0, "WEBHOOK_RETRY_BASE_SECONDS": 5,
                  "WEBHOOK_RETRY_MAX_SECONDS": 600, "WEBHOOK_MAX_AGE_SECONDS": 3600}


@pytest.fixture
def clock():
    return FrozenClock(float(int(time.time())))


@pytest.fixture(autouse=True)
def receivers_follow_the_clock(clock, monkeypatch):
    """``standardwebhooks`` checks the timestamp against its own now: make it the test's."""

    class TestDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(clock(), tz or UTC)

    monkeypatch.setattr(standard_webhooks, "datetime", TestDatetime)


@pytest.fixture
def app(make_app):
    app = make_app(**WEBHOOK_CONFIG)
    with app.app_context():
        create_realm("default")
    return app


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.release()
    server.stop()


def subscribe(app, receiver: Receiver, realm: str = "default", **data) -> dict:
    """A subscription to ``receiver``, whose secret the receiver learns."""
    with app.app_context():
        issued = subscriptions.create_subscription(get_realm(realm), {"url": receiver.url, **data}, "test")
        result = issued.to_dict()
    receiver.secrets.append(result["secret"])
    return result


def pending(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(WebhookDelivery.state == PENDING))


def next_due(app) -> int | None:
    with app.app_context():
        return db.session.scalar(select(func.min(WebhookDelivery.next_attempt_at))
                                 .where(WebhookDelivery.state == PENDING))


def run_until_idle(worker: Worker, app, clock, max_rounds: int = 200) -> int:
    """Deliver, moving the frozen clock to each next retry, until nothing is pending."""
    rounds = 0
    while pending(app) and rounds < max_rounds:
        worker.drain()
        due = next_due(app)
        if due is not None and due > clock():
            clock.advance(due - clock())
        rounds += 1
    return rounds
