"""Monthly active users per realm, by client and IdP: how chat vendors bill.

Each process remembers which (realm, month, user, client, idp) it has already recorded, so
a user's hundredth token of the month costs no database write; the first one inserts a
row, and the unique constraint absorbs the same insert from other processes.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from authserver.errors import InvalidInput
from authserver.extensions import db
from authserver.models import MonthlyUsage, Realm, User
from authserver.services import services

_seen: set[tuple] = set()
_lock = threading.Lock()
_MAX_REMEMBERED = 500_000


def month_of(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m")


def record(realm: Realm, user: User, client_id: str, idp: str, anonymous: bool) -> None:
    key = (realm.id, month_of(services().clock()), user.id, client_id, idp)
    if key in _seen:
        return
    try:
        with db.engine.begin() as connection:
            connection.execute(insert(MonthlyUsage).values(
                realm_id=realm.id, month=key[1], user_pk=user.id, client_id=client_id, idp=idp,
                anonymous=anonymous))
    except IntegrityError:
        pass  # already counted by another process
    with _lock:
        if len(_seen) >= _MAX_REMEMBERED:
            _seen.clear()
        _seen.add(key)


def report(realm: Realm, month: str | None = None) -> dict:
    month = month or month_of(services().clock())
    if len(month) != 7 or month[4] != "-" or not (month[:4] + month[5:]).isdigit():
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
