"""Every failure of a command is one line on stderr and exit status 2, never a traceback.

Expected failures: bad usage (click), bad input or state (:class:`~authserver.errors.ServiceError`),
an unusable setting found while the app is built (:class:`~authserver.config.ConfigError`),
the operating system refusing (a file, a port) and the database refusing or being unreachable.
A database error is named by the driver's first line only: never the SQL, never its parameters.
"""

from __future__ import annotations

import contextlib
import sqlite3

import click
from sqlalchemy import exc as sa_exc

from authserver.config import ConfigError
from authserver.errors import ServiceError

_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError,
                sa_exc.DisconnectionError)


class CLIError(click.ClickException):
    """Printed by click as ``Error: <message>`` on stderr, exit status 2."""

    exit_code = 2

    @classmethod
    def from_exception(cls, exc: BaseException) -> CLIError | None:
        """The one-line error for an expected failure; ``None`` for anything else (a bug)."""
        message = _message(exc)
        return None if message is None else cls(one_line(message))


def one_line(text: str) -> str:
    return " ".join(line.strip() for line in str(text).splitlines() if line.strip())


def _message(exc: BaseException) -> str | None:
    if isinstance(exc, click.ClickException):
        return exc.format_message()
    if isinstance(exc, (ServiceError, ConfigError)):
        return str(exc)
    if isinstance(exc, (sa_exc.SQLAlchemyError, *_driver_errors())):
        return database_message(exc)
    if isinstance(exc, OSError):
        return str(exc)
    return None


def database_message(exc: BaseException) -> str:
    """``database unavailable: database is locked``: the driver's reason, first line only."""
    cause = exc.orig if isinstance(exc, sa_exc.StatementError) and exc.orig is not None else exc
    lines = _reason(cause).strip().splitlines()
    unavailable = isinstance(exc, _UNAVAILABLE) or isinstance(cause, _driver_unavailable())
    return f"database {'unavailable' if unavailable else 'error'}: {lines[0] if lines else type(cause).__name__}"


def _reason(cause: BaseException) -> str:
    if isinstance(cause, sa_exc.SQLAlchemyError):  # its message alone: str() appends the SQL
        return str(cause.args[0]) if cause.args else ""
    return str(cause)


def _driver_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sqlite3.Error]
    with contextlib.suppress(ImportError):
        import psycopg

        errors.append(psycopg.Error)
    return tuple(errors)


def _driver_unavailable() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sqlite3.OperationalError]
    with contextlib.suppress(ImportError):
        import psycopg

        errors += [psycopg.OperationalError, psycopg.InterfaceError]
    return tuple(errors)
