"""The server's clock, replaceable per app so tests control time without sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class SystemClock:
    """Wall-clock time in seconds since the epoch."""

    def __call__(self) -> float:
        return time.time()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self(), UTC)


class FrozenClock(SystemClock):
    """A clock that moves only when told to (tests)."""

    def __init__(self, start: float | None = None):
        self.current = time.time() if start is None else start

    def __call__(self) -> float:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += seconds
