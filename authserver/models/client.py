"""A registered client of a realm (RFC 6749 §2, RFC 7591 metadata).

Secrets are never stored: only an HMAC-SHA-256 under a server-side key
(:class:`authserver.crypto.SecretHasher`), compared in constant time.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import ClientMixin
from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db

PUBLIC = "none"
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
PRIVATE_KEY_JWT = "private_key_jwt"
AUTH_METHODS = (PUBLIC, *SECRET_METHODS, PRIVATE_KEY_JWT)


class Client(db.Model, ClientMixin):
    __tablename__ = "clients"
    __table_args__ = (UniqueConstraint("realm_id", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    auth_method: Mapped[str] = mapped_column(String(32))
    secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    previous_secret_expires_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    jwks: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    jwks_uri: Mapped[str | None] = mapped_column(Text, nullable=True)
    grant_types: Mapped[list] = mapped_column(JSON, default=list)
    audiences: Mapped[list] = mapped_column(JSON, default=list)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    idps: Mapped[list] = mapped_column(JSON, default=list)
    redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    #: OIDC RP-Initiated Logout §3: where /logout may send the browser afterwards.
    post_logout_redirect_uris: Mapped[list] = mapped_column(JSON, default=list)
    #: OIDC Registration ``application_type``: ``native`` clients may use loopback redirect URIs
    #: with any port (RFC 8252 §7.3); ``web`` clients' redirect URIs match exactly.
    application_type: Mapped[str] = mapped_column(String(16), default="web")
    #: RFC 9126 §6: authorization requests must be pushed (``/par``) first.
    require_par: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Refresh tokens (with the ``refresh_token`` grant): lifetime of one token, and of its
    #: family however often it is rotated; both capped by ``MAX_REFRESH_TOKEN_LIFETIME``.
    refresh_token_ttl: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    refresh_token_absolute_ttl: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: Audiences of the chat backends this client acts for: it may introspect their tokens
    #: and re-exchange tokens addressed to them (RFC 7662 §4, RFC 8693 §2.2.2).
    serves: Mapped[list] = mapped_column(JSON, default=list)
    allow_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_delegation: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    registration_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tokens_not_before: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[int] = mapped_column(BigInteger)

    @property
    def is_public(self) -> bool:
        return self.auth_method == PUBLIC

    def to_dict(self) -> dict[str, Any]:
        """Everything an admin may see; never a secret or its hash."""
        return {
            "client_id": self.client_id, "name": self.name, "auth_method": self.auth_method,
            "public": self.is_public, "grant_types": list(self.grant_types),
            "audiences": list(self.audiences), "scopes": list(self.scopes),
            "idps": list(self.idps), "redirect_uris": list(self.redirect_uris),
            "serves": list(self.serves or []),
            "post_logout_redirect_uris": list(self.post_logout_redirect_uris or []),
            "application_type": self.application_type or "web", "require_par": bool(self.require_par),
            "refresh_token_ttl": self.refresh_token_ttl,
            "refresh_token_absolute_ttl": self.refresh_token_absolute_ttl,
            "jwks": self.jwks, "jwks_uri": self.jwks_uri,
            "allow_anonymous": self.allow_anonymous, "allow_delegation": self.allow_delegation,
            "disabled": self.disabled, "created_at": self.created_at, "updated_at": self.updated_at,
        }

    # --- Authlib ClientMixin ------------------------------------------------------------

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str) -> str:
        allowed = set(self.scopes)
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.disabled:
            return False
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types
