"""Database models. The schema is created and changed only by the Alembic migrations in
``authserver/migrations``; these classes describe it for the ORM."""

from __future__ import annotations

from authserver.models.realm import Realm
from authserver.models.signing_key import KeyState, SigningKey

__all__ = ["KeyState", "Realm", "SigningKey"]
