"""Database models. The schema is created and changed only by the Alembic migrations in
``authserver/migrations``; these classes describe it for the ORM."""

from __future__ import annotations

from authserver.models.audit import AuditEvent
from authserver.models.backend import ChatBackend
from authserver.models.client import Client
from authserver.models.realm import Realm
from authserver.models.registration import InitialAccessToken
from authserver.models.replay import ReplayEntry
from authserver.models.signing_key import KeyState, SigningKey

__all__ = ["AuditEvent", "ChatBackend", "Client", "InitialAccessToken", "KeyState", "Realm",
           "ReplayEntry", "SigningKey"]
