"""A realm's signing key (RFC 7517 JWK), private half encrypted at rest.

Life cycle: ``next`` (published, not signing) → ``active`` (signs) → ``retired``
(published until every token it signed has expired) → deleted. Partial unique indexes
allow at most one ``active`` and one ``next`` key per realm, so concurrent rotations in
several processes cannot produce two.
"""

from __future__ import annotations

import enum
import json

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db


class KeyState(enum.StrEnum):
    NEXT = "next"
    ACTIVE = "active"
    RETIRED = "retired"


class SigningKey(db.Model):
    __tablename__ = "signing_keys"
    __table_args__ = (
        Index("uq_signing_keys_one_active", "realm_id", unique=True,
              sqlite_where=text("state = 'active'"), postgresql_where=text("state = 'active'")),
        Index("uq_signing_keys_one_next", "realm_id", unique=True,
              sqlite_where=text("state = 'next'"), postgresql_where=text("state = 'next'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"), index=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    alg: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    public_jwk: Mapped[str] = mapped_column(Text)
    private_key_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(BigInteger)
    activates_at: Mapped[int] = mapped_column(BigInteger)  # when it starts (or started) signing
    retired_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    remove_after: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    @property
    def public_dict(self) -> dict:
        return json.loads(self.public_jwk)

    def to_dict(self) -> dict:
        """Public facts only: never any private material."""
        return {
            "kid": self.kid, "alg": self.alg, "state": self.state,
            "created_at": self.created_at, "activates_at": self.activates_at,
            "retired_at": self.retired_at, "remove_after": self.remove_after,
        }
