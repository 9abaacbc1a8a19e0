"""Printing for the CLI: ``--json`` prints only JSON; otherwise an aligned table."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import click


def emit_json(value) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True))


def emit_table(rows: Iterable[dict], columns: Sequence[str]) -> None:
    rows = list(rows)
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max([len(col)] + [len(r[i]) for r in cells]) for i, col in enumerate(columns)]
    click.echo("  ".join(col.upper().ljust(w) for col, w in zip(columns, widths)).rstrip())
    for row in cells:
        click.echo("  ".join(value.ljust(w) for value, w in zip(row, widths)).rstrip())


def emit(value, as_json: bool, columns: Sequence[str] | None = None) -> None:
    if as_json:
        emit_json(value)
    elif isinstance(value, list):
        emit_table(value, columns or sorted(value[0]) if value else columns or [])
    else:
        for key in columns or sorted(value):
            click.echo(f"{key}: {_cell(value.get(key))}")


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return " ".join(str(v) for v in value) or "-"
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


json_option = click.option("--json", "as_json", is_flag=True, help="Print only JSON.")
