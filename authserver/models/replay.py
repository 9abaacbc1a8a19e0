"""Single-use values (``jti`` of client assertions and backend assertions), kept until
they expire; the primary key makes a second use fail in every process at once."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db


class ReplayEntry(db.Model):
    __tablename__ = "replay_cache"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
