"""Committing an admin change: a unique-constraint violation becomes a clear 409, and the
process's cached static rows are dropped."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from authserver.errors import Conflict
from authserver.extensions import db
from authserver.registry.row_cache import invalidate


def commit_or_conflict(conflict_message: str) -> None:
    try:
        commit_admin_change()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(conflict_message) from None


def commit_admin_change() -> None:
    """Commit, then drop this process's cached static rows (:mod:`authserver.registry.row_cache`)."""
    db.session.commit()
    invalidate()
