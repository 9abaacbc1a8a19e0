"""Shared fixtures: ``app`` / ``client`` / ``runner`` (Flask's test pattern), a frozen clock,
and the database under test.

The suite runs on SQLite by default. With ``AUTHSERVER_TEST_DATABASE_URL`` set to a
PostgreSQL URL it runs on PostgreSQL instead, in a fresh schema created for the run.
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import create_engine, text

from authserver import create_app, schema_migrations
from authserver.clock import FrozenClock
from authserver.extensions import db

TEST_SECRET = "test-secret-key-" + "x" * 40
START_TIME = 1_800_000_000.0


def pytest_report_header(config):
    return f"authserver database: {_backend_name()}"


def _backend_name() -> str:
    url = os.environ.get("AUTHSERVER_TEST_DATABASE_URL", "")
    return "postgresql" if url.startswith("postgresql") else "sqlite"


@pytest.fixture(scope="session")
def database_template(tmp_path_factory):
    """Migrate once per run: a template SQLite file, or a fresh PostgreSQL schema."""
    url = os.environ.get("AUTHSERVER_TEST_DATABASE_URL")
    if url:
        schema = f"authserver_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        schema_url = _with_search_path(url, schema)
        _migrate(schema_url)
        yield {"kind": "postgresql", "url": schema_url}
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        _migrate(f"sqlite:///{path}")
        yield {"kind": "sqlite", "path": path}


def _with_search_path(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def _migrate(url: str) -> None:
    app = create_app(base_config(url))
    with app.app_context():
        schema_migrations.upgrade(app)
        db.engine.dispose()


def base_config(url: str, **overrides) -> dict:
    config = {"TESTING": True, "SECRET_KEY": TEST_SECRET, "SQLALCHEMY_DATABASE_URI": url,
              "ISSUER_BASE_URL": "http://auth.test"}
    config.update(overrides)
    return config


@pytest.fixture
def database_url(database_template, tmp_path):
    """A database with the full schema and no rows, private to this test."""
    if database_template["kind"] == "sqlite":
        path = tmp_path / "authserver.db"
        shutil.copy(database_template["path"], path)
        yield f"sqlite:///{path}"
    else:
        _truncate_all(database_template["url"])
        yield database_template["url"]


def _truncate_all(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = [t for t in db.metadata.sorted_tables]
        if tables:
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def clock():
    return FrozenClock(START_TIME)


@pytest.fixture
def make_app(database_url, clock):
    """Build an app on this test's database; several apps may share it (several hosts)."""
    apps = []

    def factory(**overrides):
        app = create_app(base_config(database_url, CLOCK=clock, **overrides))
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(make_app):
    from authserver.registry.realms import create_realm

    app = make_app()
    with app.app_context():
        create_realm("default")
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
