"""Options and input files shared by the CLI's commands."""

from __future__ import annotations

import json
from typing import Any

import click

from authserver.errors import InvalidInput
from authserver.registry.paging import DEFAULT_LIMIT, MAX_LIMIT

realm_option = click.option("--realm", required=True, help="Realm name.")
ACTOR = "cli"  # who the audit log names for changes made from the command line


def read_json_file(path: str, option: str) -> Any:
    """The JSON in ``path``; an unreadable file or bad JSON is one line of error."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except OSError as exc:
        raise InvalidInput(f"{option}: cannot read {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise InvalidInput(f"{option}: {path} is not valid JSON{where}") from None


def page_options(default: int = DEFAULT_LIMIT, maximum: int = MAX_LIMIT):
    """``--limit`` and ``--cursor`` of a list command (the admin API's ``limit`` and ``cursor``)."""
    def decorate(command):
        command = click.option("--cursor", help="Start after the previous page (the cursor it printed).")(command)
        return click.option("--limit", type=click.IntRange(1, maximum), default=default, show_default=True,
                            help="How many to show.")(command)
    return decorate


def flag_filter(name: str, on: str, off: str, help_text: str):
    """``--on/--off`` filter options (neither: no filter)."""
    return click.option(f"--{on}/--{off}", name, default=None, help=help_text)


def given(**fields: Any) -> dict[str, Any]:
    """Only the options the user gave (absent: ``None`` or an empty multiple option)."""
    return {name: value for name, value in fields.items() if value is not None and value != ()}
