"""A replay cache shared by every process: a row per single-use value until it expires.

Implements :class:`authserver.plugin_api.ReplayCache`. A claim is one upsert on its own
connection (one round trip, one commit): it inserts the key, or takes over a row whose
value has expired; a live row makes it a replay. Other requests, in this process or
another, see the claim at once, and the request's own transaction is untouched.
:meth:`~DatabaseReplayCache.seen` only asks (explain): it writes nothing and spends nothing.
"""

from __future__ import annotations

import hashlib
import random

from sqlalchemy import delete, select

from authserver.extensions import db, upsert_insert
from authserver.models import ReplayEntry

PURGE_PROBABILITY = 0.001


class DatabaseReplayCache:
    def __init__(self, clock):
        self._clock = clock

    def claim(self, key: str, expires_at: float) -> bool:
        key_hash = hashlib.sha256(key.encode()).hexdigest()
        now = int(self._clock())
        table = ReplayEntry.__table__
        upsert = upsert_insert(db.engine.dialect.name)(table).values(key_hash=key_hash, expires_at=int(expires_at) + 1)
        upsert = upsert.on_conflict_do_update(
            index_elements=[table.c.key_hash], set_={"expires_at": upsert.excluded.expires_at},
            where=table.c.expires_at <= now).returning(table.c.key_hash)
        with db.engine.begin() as connection:
            claimed = connection.execute(upsert).first() is not None
            if random.random() < PURGE_PROBABILITY:
                connection.execute(delete(ReplayEntry).where(ReplayEntry.expires_at <= now))
        return claimed

    def seen(self, key: str) -> bool:
        """Whether ``key`` is claimed and not yet expired, i.e. a :meth:`claim` now would be a
        replay; a read on its own connection that claims nothing."""
        key_hash = hashlib.sha256(key.encode()).hexdigest()
        live = select(ReplayEntry.key_hash).where(ReplayEntry.key_hash == key_hash,
                                                  ReplayEntry.expires_at > int(self._clock()))
        with db.engine.connect() as connection:
            return connection.execute(live).first() is not None
