"""The application factory: configuration layers, extensions, per-app state, routes."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask
from sqlalchemy import event

from authserver.config import DEFAULTS, default_database_uri, validate_config
from authserver.extensions import db, migrate

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build an app. Config layers: defaults → instance ``config.py`` → ``AUTHSERVER_*``
    environment variables; ``test_config`` replaces the last two (tests)."""
    app = Flask("authserver", instance_path=_instance_path(), instance_relative_config=True)
    load_config(app, test_config)
    _init_database(app)
    _init_state(app)
    _register_endpoints(app)
    _init_production(app)
    return app


def _instance_path() -> str | None:
    path = os.environ.get("AUTHSERVER_INSTANCE_PATH")
    return os.path.abspath(path) if path else None


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("AUTHSERVER")
    else:
        app.config.from_mapping(test_config)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = default_database_uri(app.instance_path)
    validate_config(app.config)


def _init_database(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            _configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _configure_sqlite(engine, busy_timeout_ms: int) -> None:
    """WAL lets readers run beside the writer; the busy timeout makes writers queue."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        # WAL + NORMAL: no corruption on a crash; a power cut may lose the last commits.
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()


def _init_state(app: Flask) -> None:
    from authserver.state import EXTENSION, build_state

    app.extensions[EXTENSION] = build_state(app.config, app.config.get("CLOCK"))


def _register_endpoints(app: Flask) -> None:
    from authserver.server import build_authorization_server, mount_routes

    app.extensions["authserver.oauth2"] = build_authorization_server(app)
    mount_routes(app)


def _init_production(app: Flask) -> None:
    """Rate limits, metrics and logs; client addresses from trusted reverse proxies."""
    from authserver import observability
    from authserver.edge import limits

    limits.init_app(app)
    observability.init_app(app)
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
