"""Monthly active users per realm, by client and IdP: how chat vendors bill.

Each app remembers (in its :class:`~authserver.state.AppState`, so apps on other databases
never share it) which (realm, month, user, client, idp) it has already recorded, so a user's
hundredth token of the month costs no database write; the first one adds an
``INSERT … ON CONFLICT DO NOTHING`` to the request's transaction (the unique constraint
absorbs the same insert from other processes), committed with the rest of the issuance.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite

from authserver.errors import InvalidInput
from authserver.extensions import db
from authserver.models import MonthlyUsage, Realm, User

MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_MAX_REMEMBERED = 500_000
_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


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


def month_of(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m")


def record(recorded: Recorded, realm: Realm, month: str, user: User, client_id: str, idp: str,
           anonymous: bool) -> tuple | None:
    """Count ``user`` for ``month`` in the current transaction; returns the key to remember
    once the transaction commits (:meth:`Recorded.add`), or None when already counted."""
    key = (realm.id, month, user.id, client_id, idp)
    if key in recorded:
        return None
    insert = _INSERTS[db.session.get_bind().dialect.name](MonthlyUsage).values(
        realm_id=realm.id, month=month, user_pk=user.id, client_id=client_id, idp=idp, anonymous=anonymous)
    db.session.execute(insert.on_conflict_do_nothing())
    return key


def report(realm: Realm, month: str | None, now: float) -> dict:
    """Unique users of ``month`` (default: the month of ``now``), by client and IdP."""
    month = month or month_of(now)
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
