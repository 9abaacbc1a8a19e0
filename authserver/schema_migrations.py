"""The schema's Alembic migrations (``authserver/migrations``, run through Flask-Migrate).

Loaded only where the schema changes — ``authserver init``, the hidden ``authserver db``
group, the tests and the benchmark's setup — never in a process that serves requests:
Alembic, its template engine and the highlighter that one loads cost every worker about
11 MB of memory for nothing.
"""

from __future__ import annotations

import logging
import os

from flask import Flask

from authserver.extensions import db

MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), "migrations")


def enable(app: Flask) -> None:
    """Flask-Migrate on ``app`` (what ``migrations/env.py`` and ``authserver db`` read)."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        Migrate(app, db, directory=MIGRATIONS_DIR, render_as_batch=True)


def upgrade(app: Flask, quiet: bool = False) -> None:
    """Migrate ``app``'s database to the newest revision (inside an app context); ``quiet``
    keeps Alembic's step-by-step INFO lines out of the log."""
    alembic_log = logging.getLogger("alembic")
    level = alembic_log.level
    if quiet:  # before the import: Alembic logs its plugins as it loads
        alembic_log.setLevel(logging.WARNING)
    try:
        from flask_migrate import upgrade as run_upgrade

        enable(app)
        run_upgrade(directory=MIGRATIONS_DIR)
    finally:
        alembic_log.setLevel(level)
