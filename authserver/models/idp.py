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
    #: The browser login's upstream leg (OIDC Core §3.1): our client at the upstream IdP, how it
    #: authenticates there (client_secret_basic, client_secret_post, private_key_jwt, none), the
    #: scopes asked for, and its secret (a client secret, or a private JWK) sealed at rest.
    upstream_client_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    upstream_auth_method: Mapped[str | None] = mapped_column(String(32), nullable=True)
    upstream_scope: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    upstream_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
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
                "upstream_client_id": self.upstream_client_id, "upstream_auth_method": self.upstream_auth_method,
                "upstream_scope": self.upstream_scope, "upstream_secret_set": self.upstream_secret_sealed is not None,
                "created_at": self.created_at, "updated_at": self.updated_at}
