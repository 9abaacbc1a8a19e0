"""A bounded, short-lived cache of the static rows the token endpoint reads on every
request: clients, chat backends and IdP connections.

Rows are loaded through the request's session, then detached (``expunge``) so they can be
read by later requests without a query; they are never written through. Every admin change
made in this process clears the cache when it commits (:func:`invalidate`); other processes
see a change within ``ROW_CACHE_SECONDS`` (0 turns the cache off). A disabled client or IdP
therefore stops working everywhere within that bound.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app

from authserver.extensions import db

MAX_ENTRIES = 50_000


class RowCache:
    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        """The cached value for ``key``, or ``load()`` (cached unless it is None)."""
        if self._ttl <= 0:
            return load()
        entry = self._entries.get(key)
        if entry is not None and entry[0] > self._clock():
            return entry[1]
        value = load()
        if value is not None:
            _detach(value)
            with self._lock:
                if len(self._entries) >= MAX_ENTRIES:
                    self._entries.clear()
                self._entries[key] = (self._clock() + self._ttl, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _detach(value: Any) -> None:
    for row in value.values() if isinstance(value, dict) else [value]:
        if row in db.session:
            db.session.expunge(row)


def row_cache() -> RowCache:
    return current_app.extensions["authserver"].row_cache


def cached(key: Hashable, load: Callable[[], Any]) -> Any:
    return row_cache().get(key, load)


def invalidate() -> None:
    """Forget every cached row (called after each admin change commits)."""
    state = current_app.extensions.get("authserver")
    if state is not None:
        state.row_cache.clear()
