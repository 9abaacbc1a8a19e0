"""A replay cache shared by every process: a row per single-use value until it expires.

Implements :class:`authserver.plugin_api.ReplayCache`. Each claim commits on its own
connection, so a replay is detected even by a concurrent request in another process, and
the request's own transaction is untouched.
"""

from __future__ import annotations

import hashlib
import random

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from authserver.extensions import db
from authserver.models import ReplayEntry

PURGE_PROBABILITY = 0.01


class DatabaseReplayCache:
    def __init__(self, clock):
        self._clock = clock

    def claim(self, key: str, expires_at: float) -> bool:
        key_hash = hashlib.sha256(key.encode()).hexdigest()
        now = int(self._clock())
        with db.engine.begin() as connection:
            connection.execute(delete(ReplayEntry).where(
                ReplayEntry.key_hash == key_hash, ReplayEntry.expires_at <= now))
            if random.random() < PURGE_PROBABILITY:
                connection.execute(delete(ReplayEntry).where(ReplayEntry.expires_at <= now))
        try:
            with db.engine.begin() as connection:
                connection.execute(insert(ReplayEntry).values(key_hash=key_hash,
                                                              expires_at=int(expires_at) + 1))
        except IntegrityError:
            return False
        return True
