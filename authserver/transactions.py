"""Committing an admin change: a unique-constraint violation becomes a clear 409."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from authserver.errors import Conflict
from authserver.extensions import db


def commit_or_conflict(conflict_message: str) -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(conflict_message) from None
