"""Request size and rate limits: 413 and 429 JSON answers, shared through the database or Redis."""

from __future__ import annotations

import uuid

import pytest

from authserver.edge.limits import DatabaseStore, FixedWindowLimiter, RedisStore
from tests.factories import AppBackend, make_backend

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=0.5).ping())
    except Exception:  # noqa: BLE001
        return False


def test_oversized_body_is_413_json(client):
    response = client.post("/realms/default/token", data={"subject_token": "x" * 70_000})
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_too_large"


def test_token_rate_limit_per_client_is_429_with_retry_after(make_app, clock):
    from authserver.registry.realms import create_realm

    app = make_app(TOKEN_RATE_LIMIT=3, TOKEN_RATE_WINDOW=60)
    with app.app_context():
        create_realm("default")
    make_backend(app)
    backend = AppBackend(app)
    client = app.test_client()
    statuses = [client.post("/realms/default/token", data=backend.exchange_form(
        backend.assertion(sub=f"u{i}", now=clock()), audience="chat-api")) for i in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    refused = statuses[-1]
    assert refused.get_json()["error"] == "too_many_requests"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    clock.advance(60)
    again = client.post("/realms/default/token", data=backend.exchange_form(
        backend.assertion(sub="later", now=clock()), audience="chat-api"))
    assert again.status_code == 200


def test_failed_client_authentication_is_limited_per_client_and_address(make_app, clock):
    from authserver.registry.realms import create_realm

    app = make_app(AUTH_FAILURE_LIMIT=2, AUTH_FAILURE_WINDOW=300)
    with app.app_context():
        create_realm("default")
    make_backend(app)
    backend = AppBackend(app)
    client = app.test_client()

    def attempt(secret, address="10.0.0.1"):
        form = {**backend.exchange_form(backend.assertion(now=clock())), "client_secret": secret}
        return client.post("/realms/default/token", data=form, environ_base={"REMOTE_ADDR": address})

    assert [attempt("wrong").status_code for _ in range(2)] == [401, 401]
    third = attempt("wrong")
    assert third.status_code == 429 and third.get_json()["error"] == "too_many_requests"
    assert "Retry-After" in third.headers
    assert attempt(backend.secret).status_code == 429  # even the right secret, until the window ends
    assert attempt(backend.secret, address="10.0.0.2").status_code == 200  # another address
    clock.advance(300)
    assert attempt(backend.secret).status_code == 200


def test_database_counters_are_shared_by_two_apps(make_app, clock):
    """Two apps (two hosts) on one database add up to one count."""
    first, second = make_app(), make_app()
    limiters = []
    for app in (first, second):
        with app.app_context():
            limiters.append(FixedWindowLimiter(DatabaseStore(), clock))
    results = []
    for i in range(4):
        app, limiter = (first, limiters[0]) if i % 2 == 0 else (second, limiters[1])
        with app.app_context():
            results.append(limiter.hit("shared-key", limit=3, window=60))
    assert results[:3] == [None, None, None] and results[3] is not None


@pytest.mark.skipif(not _redis_available(), reason="no Redis at 127.0.0.1:6379")
def test_redis_counters_are_shared(clock):
    prefix = f"authserver-test:{uuid.uuid4().hex}:"
    limiters = [FixedWindowLimiter(RedisStore(REDIS_URL, prefix), clock) for _ in range(2)]
    results = [limiters[i % 2].hit("k", limit=3, window=60) for i in range(4)]
    assert results[:3] == [None, None, None] and 1 <= results[3] <= 60


def test_unreachable_store_lets_requests_through(clock):
    limiter = FixedWindowLimiter(RedisStore("redis://127.0.0.1:1/0"), clock)
    assert limiter.hit("k", limit=1, window=60) is None


def test_large_limits_sync_in_batches(clock):
    calls = []

    class Store:
        def add(self, key, amount, window_end):
            calls.append(amount)
            return sum(calls)

    limiter = FixedWindowLimiter(Store(), clock)
    for _ in range(500):
        assert limiter.hit("k", limit=5000, window=60) is None
    assert len(calls) < 10 and sum(calls) <= 500
