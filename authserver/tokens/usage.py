"""Monthly active users per realm, by client and IdP: how chat vendors bill.

Each app remembers (in its :class:`~authserver.state.AppState`, so apps on other databases
never share it) which (realm, month, user, client, idp) it has already recorded, so a user's
hundredth token of the month costs no database write; the first one adds an
``INSERT … ON CONFLICT DO NOTHING`` to the request's transaction (the unique constraint
absorbs the same insert from other processes), committed with the rest of the issuance.

An erased user's rows keep only counts (:func:`erase`): they point at no user and carry a
random value per month instead, so a month's report does not change when a user is deleted.
"""

from __future__ import annotations

import csv
import io
import re
import secrets
import threading
from datetime import UTC, datetime
from functools import cache

from sqlalchemy import func, select, update

from authserver.errors import InvalidInput
from authserver.extensions import db, upsert_insert
from authserver.models import MonthlyUsage, Realm, User

MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_MAX_REMEMBERED = 500_000


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
    key = (realm.id, month, user.uid, client_id, idp)  # uid: a deleted user's row id may come back
    if key in recorded:
        return None
    connection = db.session.connection()
    connection.execute(_insert(connection.dialect.name), {
        "realm_id": realm.id, "month": month, "user_pk": user.id, "client_id": client_id, "idp": idp,
        "anonymous": anonymous})
    return key


@cache
def _insert(dialect: str):
    """``INSERT … ON CONFLICT DO NOTHING`` into the table (Core: no ORM bulk-insert path), built once."""
    return upsert_insert(dialect)(MonthlyUsage.__table__).on_conflict_do_nothing()


def report(realm: Realm, month: str | None, now: float) -> dict:
    """Unique users of ``month`` (default: the month of ``now``), by client and IdP."""
    month = month or month_of(now)
    if not isinstance(month, str) or not MONTH.fullmatch(month):
        raise InvalidInput(f"month: expected YYYY-MM, got {month!r}")
    base = select(MonthlyUsage).where(MonthlyUsage.realm_id == realm.id, MonthlyUsage.month == month)
    rows = base.subquery()
    users = func.count(func.distinct(rows.c.user_pk)) + func.count(func.distinct(rows.c.erased_ref))
    total = db.session.scalar(select(users))
    anonymous = db.session.scalar(select(users).where(rows.c.anonymous.is_(True)))
    breakdown = db.session.execute(
        select(rows.c.client_id, rows.c.idp, rows.c.anonymous, users)
        .group_by(rows.c.client_id, rows.c.idp, rows.c.anonymous)
        .order_by(rows.c.client_id, rows.c.idp)).all()
    return {"realm": realm.name, "month": month, "active_users": total,
            "identified_users": total - anonymous, "anonymous_users": anonymous,
            "by_client_and_idp": [{"client_id": c, "idp": i, "anonymous": a, "users": n}
                                  for c, i, a, n in breakdown]}


def monthly_totals(realm: Realm, months: list[str]) -> dict[str, int]:
    """Unique users of each of ``months`` (the ``active_users`` of :func:`report`), in one query."""
    users = func.count(func.distinct(MonthlyUsage.user_pk)) + func.count(func.distinct(MonthlyUsage.erased_ref))
    counted = dict(db.session.execute(select(MonthlyUsage.month, users).where(
        MonthlyUsage.realm_id == realm.id, MonthlyUsage.month.in_(months)).group_by(MonthlyUsage.month)).all())
    return {month: counted.get(month, 0) for month in months}


def months_before(month: str, count: int) -> list[str]:
    """``count`` months ending with ``month`` (YYYY-MM), oldest first."""
    year, number = int(month[:4]), int(month[5:7])
    months = []
    for _ in range(count):
        months.append(f"{year:04d}-{number:02d}")
        year, number = (year - 1, 12) if number == 1 else (year, number - 1)
    return months[::-1]


REPORT_COLUMNS = ("client_id", "idp", "anonymous", "users")


def report_csv(report: dict) -> str:
    """The report as CSV (RFC 4180): one row per client, IdP and kind of user, month first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["month", *REPORT_COLUMNS])
    for row in report["by_client_and_idp"]:
        writer.writerow([report["month"], *(_csv_cell(row[name]) for name in REPORT_COLUMNS)])
    return out.getvalue()


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def erase(user_pks: list[int]) -> None:
    """The usage rows of these users keep only counts: each user's rows of a month get one
    random ``erased_ref`` in place of the user (current transaction; the caller commits)."""
    months = db.session.execute(select(MonthlyUsage.user_pk, MonthlyUsage.month).distinct()
                                .where(MonthlyUsage.user_pk.in_(user_pks))).all()
    for user_pk, month in months:
        db.session.execute(update(MonthlyUsage).where(MonthlyUsage.user_pk == user_pk, MonthlyUsage.month == month)
                           .values(user_pk=None, erased_ref=secrets.token_hex(16)))
