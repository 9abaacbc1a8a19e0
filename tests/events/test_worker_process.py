"""``authserver worker`` as a separate process: killed outright mid-delivery it loses
nothing (its claims expire and another worker delivers); SIGTERM lets the attempt in flight
finish and be recorded, and leaves no claim behind."""

from __future__ import annotations

import os
import signal
import subprocess

import pytest
from sqlalchemy import select

from authserver.events.worker import Worker, worker_beside
from authserver.extensions import db
from authserver.models import WebhookDelivery
from tests.conftest import TEST_SECRET
from tests.events.conftest import run_until_idle, subscribe
from tests.events.test_worker import per_user, publish_user_events
from tests.support.served import AUTHSERVER

CLAIM_SECONDS = 60


@pytest.fixture
def worker_env(database_url, tmp_path) -> dict[str, str]:
    return {"AUTHSERVER_INSTANCE_PATH": str(tmp_path / "instance"),
            "AUTHSERVER_SQLALCHEMY_DATABASE_URI": database_url, "AUTHSERVER_SECRET_KEY": TEST_SECRET,
            "AUTHSERVER_ISSUER_BASE_URL": "http://auth.test", "AUTHSERVER_LOG_LEVEL": "WARNING",
            "AUTHSERVER_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true", "AUTHSERVER_WEBHOOK_POLL_SECONDS": "0.1",
            "AUTHSERVER_WEBHOOK_TIMEOUT": "30", "AUTHSERVER_WEBHOOK_CLAIM_SECONDS": str(CLAIM_SECONDS)}


@pytest.fixture
def start_worker(worker_env):
    processes = []

    def start() -> subprocess.Popen:
        process = subprocess.Popen([AUTHSERVER, "worker", "--concurrency", "2"], env={**os.environ, **worker_env},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        processes.append(process)
        return process

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stderr.close()


def states(app) -> list[tuple[str, str | None]]:
    with app.app_context():
        rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
        return [(d.state, d.claim_token) for d in rows]


def wait_for_arrival(receiver, process) -> None:
    if not receiver.arrived.wait(timeout=30):
        output = process.stderr.read().decode()[-2000:] if process.stderr else ""
        raise AssertionError(f"the worker sent nothing: {output}")


def test_a_worker_killed_mid_delivery_loses_nothing(app, receiver, clock, start_worker):
    subscribe(app, receiver)
    receiver.hold = True
    ids = publish_user_events(app, ["alice", "alice", "bob", "alice"])
    process = start_worker()
    wait_for_arrival(receiver, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    receiver.release()
    assert any(token for _, token in states(app))  # it died holding claims
    clock.advance(CLAIM_SECONDS + 30)  # its claims (and its SQLite lease) expire
    run_until_idle(Worker(app, concurrency=2), app, clock)
    assert [state for state, _ in states(app)] == ["delivered"] * 4
    assert set(receiver.ids()) == set(ids) and receiver.unverified == []
    alice = per_user(receiver, "alice")
    assert sorted(set(alice)) == [0, 1, 3] and alice == sorted(alice)  # at least once, in order


def test_sigterm_finishes_the_delivery_in_flight(app, receiver, start_worker):
    subscribe(app, receiver)
    receiver.hold = True
    ids = publish_user_events(app, ["alice", "alice"])
    process = start_worker()
    wait_for_arrival(receiver, process)
    process.send_signal(signal.SIGTERM)
    receiver.release()
    assert process.wait(timeout=30) == 0, process.stderr.read().decode()[-2000:]
    assert receiver.ids()[0] == ids[0]
    final = states(app)
    assert final[0] == ("delivered", None)
    assert all(token is None for _, token in final)  # nothing left claimed
    assert final[1][0] in ("pending", "delivered")


def test_a_worker_beside_the_web_server(app, receiver, worker_env, monkeypatch):
    """What ``authserver serve --with-worker`` runs: a worker process for the server's lifetime."""
    for name, value in worker_env.items():
        monkeypatch.setenv(name, value)
    subscribe(app, receiver)
    [event_id] = publish_user_events(app, ["alice"])
    with worker_beside(concurrency=1) as process:
        wait_for_arrival(receiver, process)
    assert process.returncode == 0
    assert receiver.ids() == [event_id]
