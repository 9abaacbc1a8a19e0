"""Keyset paging and filters of every admin list, shared by the CLI and the admin API.

A page is the first ``limit`` rows, in the list's fixed order, after the row its ``cursor``
names; ``next_cursor`` names the page's last row when more follow (``None`` on the last page).
A cursor is opaque (base64url JSON of the list's name and the row's sort key) and only valid
for the list that gave it. Keyset, not offset: a row added or removed meanwhile neither
repeats nor skips others, and a deep page costs what the first one does.

A filter value is checked here (``text_filter``, ``choice_filter``) before it reaches a query,
with the bounds the OpenAPI document declares (:mod:`authserver.admin.openapi`).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, tuple_

from authserver.errors import InvalidInput
from authserver.extensions import db

DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
MAX_CURSOR = 512
#: A filter value: printable, no control characters (what the OpenAPI document says too).
FILTER_TEXT = re.compile(r"[^\x00-\x1f\x7f]+")
CURSOR_TEXT = re.compile(r"[A-Za-z0-9_-]+")


class Page(list):
    """The rows of one page (it is a list) and the cursor of the next (None: the last page)."""

    def __init__(self, items: Iterable[Any] = (), next_cursor: str | None = None):
        super().__init__(items)
        self.next_cursor = next_cursor

    def map(self, function: Callable[[Any], Any]) -> Page:
        return Page(map(function, self), self.next_cursor)


@dataclass(frozen=True)
class Order:
    """A list's fixed order: its name (in its cursors) and the model attributes it sorts by,
    unique together (the last one is a primary or unique key)."""

    name: str
    columns: tuple[Any, ...]
    descending: bool = False


def page(query: Select, order: Order, limit: int | None = None, cursor: str | None = None,
         maximum: int = MAX_LIMIT) -> Page:
    """The page of ``query`` (ORM rows) after ``cursor``, at most ``limit`` rows."""
    limit = check_limit(DEFAULT_LIMIT if limit is None else limit, maximum)
    sort = [c.desc() if order.descending else c.asc() for c in order.columns]
    query = query.order_by(*sort)
    if cursor is not None:
        key = tuple_(*order.columns) if len(order.columns) > 1 else order.columns[0]
        values = decode(cursor, order)
        bound = tuple_(*values) if len(values) > 1 else values[0]
        query = query.where(key < bound if order.descending else key > bound)
    rows = list(db.session.scalars(query.limit(limit + 1)).unique())
    if len(rows) <= limit:
        return Page(rows)
    rows = rows[:limit]
    return Page(rows, encode(order, [getattr(rows[-1], c.key) for c in order.columns]))


def check_limit(limit: Any, maximum: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= maximum:
        raise InvalidInput(f"limit: must be an integer from 1 to {maximum}")
    return limit


def encode(order: Order, values: list[Any]) -> str:
    raw = json.dumps([order.name, values], separators=(",", ":"), ensure_ascii=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: Any, order: Order) -> list[Any]:
    """The sort key a cursor of this list names; anything else is refused with one line."""
    refused = InvalidInput("cursor: not a cursor of this list (pass the one the previous page gave)")
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR or not CURSOR_TEXT.fullmatch(cursor):
        raise refused
    try:
        name, values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError):
        raise refused from None
    if name != order.name or not isinstance(values, list) or len(values) != len(order.columns) \
            or not all(_sort_value(v) for v in values):
        raise refused
    return values


def _sort_value(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (isinstance(value, str) and len(value) <= 300)


def text_filter(value: Any, field: str, max_length: int) -> str | None:
    """An exact-match filter: absent (None), or 1 to ``max_length`` printable characters."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > max_length or not FILTER_TEXT.fullmatch(value):
        raise InvalidInput(f"{field}: must be 1 to {max_length} printable characters")
    return value


def choice_filter(value: Any, field: str, choices: Iterable[str]) -> str | None:
    choices = tuple(choices)
    if value is not None and value not in choices:
        raise InvalidInput(f"{field}: must be one of {', '.join(choices)}")
    return value


def flag_filter(value: Any, field: str) -> bool | None:
    """A true/false filter: a bool, or the query's ``true`` / ``false``."""
    if value is None or isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise InvalidInput(f"{field}: must be true or false")
