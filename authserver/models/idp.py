"""A realm's connection to one upstream identity provider, served by a connector plugin."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db

TRUST_LEVELS = ("verified", "unverified")
PROVISIONING = ("create", "link_verified_email", "existing_only")


class IdentityProvider(db.Model):
    __tablename__ = "identity_providers"
    __table_args__ = (UniqueConstraint("realm_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(63))
    type: Mapped[str] = mapped_column(String(64))
    trust: Mapped[str] = mapped_column(String(16))
    user_id_claim: Mapped[str] = mapped_column(String(255))
    provisioning: Mapped[str] = mapped_column(String(32))
    claim_mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    #: backend_assertion: the client whose registered keys sign the assertions (its client_id).
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)

    @property
    def verified(self) -> bool:
        return self.trust == "verified"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "trust": self.trust,
                "user_id_claim": self.user_id_claim, "provisioning": self.provisioning,
                "claim_mapping": self.claim_mapping, "config": self.config,
                "client_id": self.client_id,
                "shared_secret_set": self.secret_sealed is not None, "disabled": self.disabled,
                "created_at": self.created_at, "updated_at": self.updated_at}
