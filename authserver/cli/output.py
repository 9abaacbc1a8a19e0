"""Printing for the CLI: ``--json`` prints only JSON; otherwise text for people.

Text never shows a Python repr: booleans print as ``true``/``false``, a missing value as
``-``, objects (and lists of them) as compact JSON, and times (fields named ``at``,
``*_at``, ``*not_before``, ``remove_after``) as ISO 8601 UTC. JSON keeps the values as
stored: times stay epoch seconds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import click

TIME_FIELDS = ("at", "remove_after")
TIME_SUFFIXES = ("_at", "not_before")

json_option = click.option("--json", "as_json", is_flag=True, help="Print only JSON.")


def emit_json(value) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True))


def emit_table(rows: Iterable[dict], columns: Sequence[str]) -> None:
    cells = [[text(row.get(col), col) for col in columns] for row in rows]
    widths = [max([len(col)] + [len(r[i]) for r in cells]) for i, col in enumerate(columns)]
    click.echo("  ".join(col.upper().ljust(w) for col, w in zip(columns, widths, strict=True)).rstrip())
    for row in cells:
        click.echo("  ".join(value.ljust(w) for value, w in zip(row, widths, strict=True)).rstrip())


def emit_page(page, as_json: bool, columns: Sequence[str] | None = None) -> None:
    """A page of a list (:class:`~authserver.registry.paging.Page`), as :func:`emit` prints a
    list; while more pages follow, how to get the next one, on stderr (stdout stays the list)."""
    emit(list(page), as_json, columns)
    if page.next_cursor is not None:
        click.echo(f"More: run again with --cursor {page.next_cursor}", err=True)


def emit(value, as_json: bool, columns: Sequence[str] | None = None) -> None:
    """JSON, a table (a list of objects) or ``key: value`` lines (one object)."""
    if as_json:
        emit_json(value)
    elif isinstance(value, list):
        emit_table(value, columns or (sorted(value[0]) if value else []))
    else:
        for key in columns or sorted(value):
            click.echo(f"{key}: {text(value.get(key), key)}")


def text(value, field: str = "") -> str:
    """One value as text; ``field`` (its name) tells a time from a number."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_time_field(field) and isinstance(value, (int, float)):
        return iso_utc(value)
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, (dict, list, tuple)) for item in value):
            return compact_json(value)
        return " ".join(text(item) for item in value) or "-"
    if isinstance(value, dict):
        return compact_json(value)
    return str(value)


def is_time_field(field: str) -> bool:
    return field in TIME_FIELDS or field.endswith(TIME_SUFFIXES)


def iso_utc(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(int(epoch_seconds), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def compact_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
