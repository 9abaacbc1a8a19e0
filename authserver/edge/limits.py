"""Rate limits shared by every process: token requests per client, failed client
authentications per client and source address (HTTP 429 with ``Retry-After``).

Fixed windows. The counters live in Redis when ``REDIS_URL`` is set, else in the database
(:class:`~authserver.models.rate_limit.RateLimitCounter`). Each process adds its hits to
the shared counter in small batches (every hit for a small limit, every ``limit/50`` hits
or every second for a large one), so the token endpoint does not pay a round trip per
request, and the shared total overshoots by at most ``processes × limit/50``. A store that
fails lets the request through (and logs): the limits protect the service, they must not
take it down.

Failed authentications are counted only when they happen and checked before the next
attempt, so a successful request costs nothing; with N processes an attacker gets at most
``AUTH_FAILURE_LIMIT + N`` guesses per window.
"""

from __future__ import annotations

import hashlib
import logging
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from authlib.oauth2.rfc6749.errors import OAuth2Error
from flask import Flask, current_app, request
from sqlalchemy import delete

from authserver.extensions import db, upsert_insert
from authserver.models.rate_limit import RateLimitCounter

log = logging.getLogger(__name__)
EXTENSION = "authserver.edge.limits"
SYNC_SECONDS = 1.0
PURGE_PROBABILITY = 0.01
_MAX_LOCAL_ENTRIES = 50_000


class TooManyRequestsError(OAuth2Error):
    """RFC 6585 §4: too many requests; retry after ``Retry-After`` seconds (HTTP 429)."""

    error = "too_many_requests"
    status_code = 429

    def __init__(self, retry_after: int, description: str = "Too many requests; retry later."):
        super().__init__(description=description)
        self.retry_after = retry_after

    def get_headers(self):
        return [*super().get_headers(), ("Retry-After", str(self.retry_after))]


# --- shared stores -------------------------------------------------------------------


class RedisStore:
    def __init__(self, url: str, prefix: str = "authserver:rl:"):
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._prefix = prefix

    def add(self, key: str, amount: int, window_end: int) -> int:
        name = self._prefix + key
        pipe = self._redis.pipeline(transaction=True)
        pipe.incrby(name, amount)
        pipe.expireat(name, window_end + 1)
        total, _ = pipe.execute()
        return int(total)


class DatabaseStore:
    """An upsert on its own connection: the request's transaction is untouched."""

    def add(self, key: str, amount: int, window_end: int) -> int:
        key_hash = hashlib.sha256(key.encode()).hexdigest()
        with db.engine.begin() as connection:
            stmt = upsert_insert(connection.dialect.name)(RateLimitCounter).values(
                key_hash=key_hash, window_end=window_end, count=amount)
            stmt = stmt.on_conflict_do_update(
                index_elements=["key_hash"], set_={"count": RateLimitCounter.count + stmt.excluded.count})
            total = connection.execute(stmt.returning(RateLimitCounter.count)).scalar_one()
            if random.random() < PURGE_PROBABILITY:
                connection.execute(delete(RateLimitCounter).where(
                    RateLimitCounter.window_end < int(time.time()) - 3600))
        return int(total)


# --- the limiter ---------------------------------------------------------------------


@dataclass
class _Window:
    start: int
    shared: int = 0  # the shared total when this process last synced
    pending: int = 0  # hits of this process not yet added to the shared total
    synced_at: float = 0.0


class FixedWindowLimiter:
    def __init__(self, store, clock: Callable[[], float]):
        self._store = store
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window: int) -> int | None:
        """Count one hit; the seconds to wait when the limit is exceeded, else ``None``."""
        now = self._clock()
        entry = self._window(key, now, window)
        with self._lock:
            entry.pending += 1
            due = entry.pending >= max(1, limit // 50) or now - entry.synced_at >= SYNC_SECONDS
            amount, entry.pending = (entry.pending, 0) if due else (0, entry.pending)
        if amount:
            shared = self._add(f"{key}|{entry.start}", amount, entry.start + window)
            with self._lock:
                entry.shared = max(entry.shared + amount, shared or 0)
                entry.synced_at = now
        return self._retry_after(entry, limit, window, now)

    def blocked(self, key: str, limit: int, window: int) -> int | None:
        """Whether ``key`` is over its limit as far as this process knows, without counting."""
        now = self._clock()
        entry = self._windows.get(key)
        if entry is None or entry.start != _start(now, window):
            return None
        return self._retry_after(entry, limit, window, now)

    def _window(self, key: str, now: float, window: int) -> _Window:
        start = _start(now, window)
        entry = self._windows.get(key)
        if entry is None or entry.start != start:
            entry = _Window(start=start)
            with self._lock:
                if len(self._windows) >= _MAX_LOCAL_ENTRIES:
                    self._windows.clear()
                self._windows[key] = entry
        return entry

    def _add(self, key: str, amount: int, window_end: int) -> int | None:
        try:
            return self._store.add(key, amount, window_end)
        except Exception as exc:  # noqa: BLE001 - a broken store must not fail requests
            log.warning("rate limit store unavailable: %s", exc.__class__.__name__)
            return None

    @staticmethod
    def _retry_after(entry: _Window, limit: int, window: int, now: float) -> int | None:
        if entry.shared + entry.pending <= limit:
            return None
        return max(1, math.ceil(entry.start + window - now))


def _start(now: float, window: int) -> int:
    return int(now // window) * window


# --- wiring --------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    from authserver.state import app_state

    url = app.config.get("REDIS_URL")
    store = RedisStore(url, app.config["REDIS_KEY_PREFIX"]) if url else DatabaseStore()
    with app.app_context():
        clock = app_state().clock
    app.extensions[EXTENSION] = FixedWindowLimiter(store, clock)


def limiter() -> FixedWindowLimiter:
    return current_app.extensions[EXTENSION]


def guard_client_authentication(authenticate: Callable[[], object], endpoint: str, client_id: str):
    """Run ``authenticate`` (client authentication of ``client_id``, as claimed) under both limits."""
    config = current_app.config
    failure_key = f"auth-failure|{request.path}|{client_id[:128]}|{request.remote_addr}"
    failure_limit, failure_window = config["AUTH_FAILURE_LIMIT"], config["AUTH_FAILURE_WINDOW"]
    if failure_limit:
        retry_after = limiter().blocked(failure_key, failure_limit, failure_window)
        if retry_after:
            raise TooManyRequestsError(retry_after, "Too many failed client authentications.")
    try:
        client = authenticate()
    except OAuth2Error as error:
        if failure_limit and error.error == "invalid_client":
            retry_after = limiter().hit(failure_key, failure_limit, failure_window)
            if retry_after:
                raise TooManyRequestsError(retry_after, "Too many failed client authentications.") from None
        raise
    token_limit = config["TOKEN_RATE_LIMIT"]
    if endpoint == "token" and token_limit:
        key = f"token|{request.path}|{client.client_id}"
        retry_after = limiter().hit(key, token_limit, config["TOKEN_RATE_WINDOW"])
        if retry_after:
            raise TooManyRequestsError(retry_after, "Too many token requests for this client.")
    return client
