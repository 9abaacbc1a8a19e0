"""Monthly active users per realm, by client and IdP: how chat vendors bill.

Each app remembers (in ``app.extensions``, so apps on other databases never share it) which
(realm, month, user, client, idp) it has already recorded, so a user's hundredth token of
the month costs no database write; the first one inserts a row, and the unique constraint
absorbs the same insert from other processes.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from authserver.errors import InvalidInput
from authserver.extensions import db
from authserver.models import MonthlyUsage, Realm, User
from authserver.state import services

EXTENSION = "authserver.tokens.usage"
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_MAX_REMEMBERED = 500_000
_create_lock = threading.Lock()


class Recorded:
    """The usage keys this app has already written (bounded; forgetting only costs a write)."""

    def __init__(self):
        self._keys: set[tuple] = set()
        self._lock = threading.Lock()

    def __contains__(self, key: tuple) -> bool:
        return key in self._keys

    def add(self, key: tuple) -> None:
        with self._lock:
            if len(self._keys) >= _MAX_REMEMBERED:
                self._keys.clear()
            self._keys.add(key)


def _recorded() -> Recorded:
    extensions = current_app.extensions
    if EXTENSION not in extensions:
        with _create_lock:
            extensions.setdefault(EXTENSION, Recorded())
    return extensions[EXTENSION]


def month_of(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m")


def record(realm: Realm, user: User, client_id: str, idp: str, anonymous: bool) -> None:
    key = (realm.id, month_of(services().clock()), user.id, client_id, idp)
    recorded = _recorded()
    if key in recorded:
        return
    try:
        with db.engine.begin() as connection:
            connection.execute(insert(MonthlyUsage).values(
                realm_id=realm.id, month=key[1], user_pk=user.id, client_id=client_id, idp=idp,
                anonymous=anonymous))
    except IntegrityError:
        pass  # already counted by another process
    recorded.add(key)


def report(realm: Realm, month: str | None = None) -> dict:
    month = month or month_of(services().clock())
    if not isinstance(month, str) or not MONTH.fullmatch(month):
        raise InvalidInput(f"month: expected YYYY-MM, got {month!r}")
    base = select(MonthlyUsage).where(MonthlyUsage.realm_id == realm.id, MonthlyUsage.month == month)
    rows = base.subquery()
    total = db.session.scalar(select(func.count(func.distinct(rows.c.user_pk))))
    anonymous = db.session.scalar(select(func.count(func.distinct(rows.c.user_pk)))
                                  .where(rows.c.anonymous.is_(True)))
    breakdown = db.session.execute(
        select(rows.c.client_id, rows.c.idp, rows.c.anonymous,
               func.count(func.distinct(rows.c.user_pk)))
        .group_by(rows.c.client_id, rows.c.idp, rows.c.anonymous)
        .order_by(rows.c.client_id, rows.c.idp)).all()
    return {"realm": realm.name, "month": month, "active_users": total,
            "identified_users": total - anonymous, "anonymous_users": anonymous,
            "by_client_and_idp": [{"client_id": c, "idp": i, "anonymous": a, "users": n}
                                  for c, i, a, n in breakdown]}
