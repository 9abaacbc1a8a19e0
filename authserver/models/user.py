"""Chat users and the identity links that map ``(realm, idp, subject)`` to them.

``uid`` (``_id`` in tokens) is server-assigned, opaque and immutable; ``user_id`` is the
business id, unique in the realm and set once. A user is *identified* once it has one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db

ACTIVE, DISABLED, MERGED = "active", "disabled", "merged"


class User(db.Model):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("realm_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"), index=True)
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    given_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    family_name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    email: Mapped[str | None] = mapped_column(String(320), nullable=True, index=True)
    picture: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    custom: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    unverified: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    workspaces: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16), default=ACTIVE)
    merged_into: Mapped[str | None] = mapped_column(String(32), nullable=True)
    tokens_not_before: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    last_seen_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: ``admin`` or ``viewer`` in the admin console (users of ``ADMIN_REALM`` only).
    console_role: Mapped[str | None] = mapped_column(String(16), nullable=True)

    @property
    def identified(self) -> bool:
        return self.user_id is not None

    def to_dict(self) -> dict[str, Any]:
        return {"_id": self.uid, "user_id": self.user_id, "identified": self.identified,
                "verified": self.verified, "given_name": self.given_name,
                "family_name": self.family_name, "name": self.name, "email": self.email,
                "picture": self.picture, "custom": self.custom, "unverified": self.unverified,
                "workspaces": list(self.workspaces or []), "state": self.state,
                "merged_into": self.merged_into, "created_at": self.created_at,
                "last_seen_at": self.last_seen_at}


class IdentityLink(db.Model):
    __tablename__ = "identity_links"
    __table_args__ = (UniqueConstraint("realm_id", "idp_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"))
    idp_id: Mapped[int] = mapped_column(ForeignKey("identity_providers.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(255))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    last_claims: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    first_login_at: Mapped[int] = mapped_column(BigInteger)
    last_login_at: Mapped[int] = mapped_column(BigInteger)


class MonthlyUsage(db.Model):
    """One row per user, client and IdP that got a token in a month (billing: unique users).

    An erased user's rows point at no user (``user_pk`` null) and carry ``erased_ref``: random,
    the same on that user's rows of one month, so the month still counts the user once."""

    __tablename__ = "monthly_usage"
    __table_args__ = (UniqueConstraint("realm_id", "month", "user_pk", "client_id", "idp"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"), index=True)
    month: Mapped[str] = mapped_column(String(7))
    user_pk: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=True)
    erased_ref: Mapped[str | None] = mapped_column(String(32), nullable=True)
    client_id: Mapped[str] = mapped_column(String(64))
    idp: Mapped[str] = mapped_column(String(63))
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
