"""Anonymous device sessions and revoked tokens.

A device session binds an opaque session token (stored only as a keyed hash) to an
anonymous user and the public client that created it; it ends when the user logs in.
Revocation keeps only what is revoked (a ``jti`` until its token expires), never every
issued token; "all tokens of a user / client" is a not-before cut-off on those rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db


class DeviceSession(db.Model):
    __tablename__ = "device_sessions"
    __table_args__ = (Index("ix_device_sessions_client_source", "realm_id", "client_id",
                            "source_address", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"))
    sid: Mapped[str] = mapped_column(String(32), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    source_address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    ended_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return {"sid": self.sid, "client_id": self.client_id, "created_at": self.created_at,
                "ended_at": self.ended_at}


class RevokedToken(db.Model):
    __tablename__ = "revoked_tokens"

    jti_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
