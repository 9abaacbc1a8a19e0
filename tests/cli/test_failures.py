"""Every failure of a command is one line on stderr and exit status 2: usage, domain and
configuration errors, and the database refusing (never its SQL or parameters)."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import exc as sa_exc

from authserver.cli import main
from authserver.config import ConfigError
from authserver.registry import realms
from tests.cli_helpers import cli_error

SQL = "INSERT INTO realms (name, secret) VALUES (?, ?)"
PARAMS = ("default", "hunter2-parameter")


@pytest.fixture
def locked_app(make_app, database_url):
    """An app whose SQLite database another connection holds the write lock on."""
    if not database_url.startswith("sqlite:///"):
        pytest.skip("SQLite's write lock")
    app = make_app(SQLITE_BUSY_TIMEOUT_MS=50)
    with app.app_context():
        realms.create_realm("default")
    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield app
    holder.execute("ROLLBACK")
    holder.close()


def test_a_locked_database_is_one_line(locked_app):
    line = cli_error(locked_app.test_cli_runner(), "keys", "rotate", "--realm", "default")
    assert line == "Error: database unavailable: database is locked"


@pytest.mark.parametrize(("error", "expected"), [
    (sa_exc.OperationalError(SQL, PARAMS, sqlite3.OperationalError("database is locked")),
     "database unavailable: database is locked"),
    (sa_exc.IntegrityError(SQL, PARAMS, sqlite3.IntegrityError("UNIQUE constraint failed: realms.name")),
     "database error: UNIQUE constraint failed: realms.name"),
    (sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
     "database unavailable: QueuePool limit of size 5 overflow 10 reached"),
    (sa_exc.StatementError("(builtins.TypeError) not a string", SQL, PARAMS, None),
     "database error: (builtins.TypeError) not a string"),
    (sqlite3.OperationalError("unable to open database file"),
     "database unavailable: unable to open database file"),
])
def test_database_errors_are_one_line_without_sql_or_parameters(runner, monkeypatch, error, expected):
    def fail(*_args, **_kwargs):
        raise error

    monkeypatch.setattr(realms, "list_realms", fail)
    line = cli_error(runner, "realms", "list")
    assert line == f"Error: {expected}"
    assert "INSERT" not in line and "hunter2" not in line


def test_a_leaked_psycopg_error_is_one_line(runner, monkeypatch):
    psycopg = pytest.importorskip("psycopg")

    def fail(*_args, **_kwargs):
        raise psycopg.OperationalError('connection to server at "db" (10.0.0.5), port 5432 failed: '
                                       "Connection refused\n\tIs the server running on that host?")

    monkeypatch.setattr(realms, "list_realms", fail)
    assert cli_error(runner, "realms", "list") == (
        'Error: database unavailable: connection to server at "db" (10.0.0.5), port 5432 failed: '
        "Connection refused")


def test_a_configuration_error_while_building_the_app_is_one_line():
    def create_app():
        raise ConfigError("JWKS_MAX_AGE", "must be a positive integer")

    result = CliRunner().invoke(main, ["realms", "list"], obj=ScriptInfo(create_app=create_app))
    assert result.exit_code == 2
    assert result.stderr == "Error: configuration error: JWKS_MAX_AGE: must be a positive integer\n"


def test_an_operating_system_error_is_one_line(runner, monkeypatch):
    def fail(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied", "/srv/authserver/instance")

    monkeypatch.setattr(realms, "list_realms", fail)
    assert "Permission denied" in cli_error(runner, "realms", "list")


@pytest.mark.parametrize(("args", "message"), [
    (("--bogus",), "No such option '--bogus'"),
    (("nosuch",), "No such command 'nosuch'"),
    (("realms", "create"), "Missing argument 'NAME'"),
    (("keys", "rotate", "--realm", "default", "--alg", "HS256"), "'HS256' is not one of"),
    (("serve", "--bind", "nowhere"), "expected HOST:PORT"),
    (("admin", "bootstrap", "--url", "auth.example.com"), "--url"),
])
def test_usage_errors_are_one_line(runner, args, message):
    assert message in cli_error(runner, *args)


def test_a_bug_is_not_disguised_as_bad_input(runner, monkeypatch):
    def fail(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(realms, "list_realms", fail)
    result = runner.invoke(main, ["realms", "list"])
    assert isinstance(result.exception, RuntimeError) and result.exit_code == 1
