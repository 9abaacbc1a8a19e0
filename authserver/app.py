"""The application factory: configuration layers, extensions, per-app state, routes."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import make_url

from authserver.config import DEFAULTS, default_database_uri, read_layers, validate_config
from authserver.extensions import db


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build an app. Config layers: defaults → instance ``config.py`` → ``AUTHSERVER_*``
    environment variables; ``test_config`` replaces the last two (tests)."""
    app = Flask("authserver", instance_path=_instance_path(), instance_relative_config=True)
    load_config(app, test_config)
    _init_database(app)
    _init_state(app)
    _init_sealing(app)
    _register_endpoints(app)
    _init_production(app)
    return app


def _instance_path() -> str | None:
    path = os.environ.get("AUTHSERVER_INSTANCE_PATH")
    return os.path.abspath(path) if path else None


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    """The layers (:func:`authserver.config.read_layers`, which refuses unknown names), then
    the checks; the default database is a SQLite file in the instance folder."""
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_mapping(read_layers(app.instance_path).merged())
    else:
        app.config.from_mapping(test_config)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = default_database_uri(app.instance_path)
    validate_config(app.config)


def _init_database(app: Flask) -> None:
    db.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _create_private_file(app.config["SQLALCHEMY_DATABASE_URI"])
        with app.app_context():
            _configure_sqlite(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])


def _create_private_file(uri: str) -> None:
    """Create the SQLite file 0600 (like instance/config.py) before SQLite would create it
    0644: it holds users' emails and names. Its -wal and -shm files get the same mode."""
    path = make_url(uri).database
    if not path or path == ":memory:" or path.startswith("file:") or os.path.exists(path):
        return
    if os.path.isdir(os.path.dirname(os.path.abspath(path))):
        with contextlib.suppress(FileExistsError):  # another process created it first
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


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


def _init_sealing(app: Flask) -> None:
    """Refuse to start when SECRET_KEY cannot unseal this database (:mod:`authserver.sealing`)."""
    from authserver import sealing

    sealing.init_app(app)


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
