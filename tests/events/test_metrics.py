"""Metrics: deliveries by result (the worker's counter), and from the database at scrape
time the queue depth, the age of the oldest pending delivery and deliveries by state."""

from __future__ import annotations

from authserver.events.worker import Worker
from tests.events.conftest import subscribe
from tests.events.test_worker import publish_user_events
from tests.support.metrics import scrape


def sample(text: str, name: str) -> float:
    [value] = [line.split(" ")[1] for line in text.splitlines() if line.split(" ")[0] == name]
    return float(value)


def test_delivery_metrics(app, client, receiver, clock):
    subscribe(app, receiver)
    publish_user_events(app, ["alice"])
    Worker(app).drain()
    receiver.status = 503
    publish_user_events(app, ["bob"])
    Worker(app).drain()
    clock.advance(90)
    text = scrape(app)
    assert sample(text, 'authserver_webhook_deliveries_total{result="delivered"}') == 1
    assert sample(text, 'authserver_webhook_deliveries_total{result="failed"}') == 1
    assert sample(text, "authserver_webhook_queue_depth") == 1
    assert sample(text, "authserver_webhook_oldest_pending_seconds") == 90
    assert sample(text, 'authserver_webhook_deliveries_by_state{state="delivered"}') == 1
    assert sample(text, 'authserver_webhook_deliveries_by_state{state="dead"}') == 0
