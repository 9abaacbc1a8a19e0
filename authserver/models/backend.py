"""A chat backend: a resource server whose ``audience`` our chat JWTs name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db


class ChatBackend(db.Model):
    __tablename__ = "chat_backends"
    __table_args__ = (UniqueConstraint("realm_id", "audience"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"), index=True)
    audience: Mapped[str] = mapped_column(String(255))
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    default_scopes: Mapped[list] = mapped_column(JSON, default=list)
    acl_template: Mapped[list | None] = mapped_column(JSON, nullable=True)
    profile: Mapped[str] = mapped_column(String(64), default="native")
    credential_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    token_ttl: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)

    def to_dict(self) -> dict[str, Any]:
        """Everything an admin may see; the vendor credential only as "set"/absent."""
        return {
            "audience": self.audience, "scopes": list(self.scopes),
            "default_scopes": list(self.default_scopes), "acl_template": self.acl_template,
            "profile": self.profile, "credential_set": self.credential_sealed is not None,
            "token_ttl": self.token_ttl, "created_at": self.created_at,
            "updated_at": self.updated_at,
        }
