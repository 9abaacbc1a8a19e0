"""The admin console's own state: single-use sign-in links and console sessions.

Both are bearer secrets, so only their keyed hash is stored
(:class:`authserver.crypto.SecretHasher`). A link is spent once (``used_at``) and expires in
minutes; a session names who is signed in (a user of ``ADMIN_REALM`` or the link that let
them in), with which role, over which realms, and ends at ``expires_at`` or on sign-out.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db

ADMIN, VIEWER = "admin", "viewer"
CONSOLE_ROLES = (ADMIN, VIEWER)


class ConsoleLink(db.Model):
    """``authserver admin console-link``: one sign-in with the ``admin`` role, for a fresh
    install that has no upstream IdP yet. ``realm`` None: every realm."""

    __tablename__ = "console_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    realm: Mapped[str | None] = mapped_column(String(63), nullable=True)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ConsoleSession(db.Model):
    """A signed-in console browser: ``actor`` is what the audit log records for its actions
    (``console:user:<_id>`` or ``console:link:<id>``); ``realm`` None administers every realm."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    cookie_hash: Mapped[str] = mapped_column(String(64), unique=True)
    actor: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    realm: Mapped[str | None] = mapped_column(String(63), nullable=True)
    user_pk: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    ended_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
