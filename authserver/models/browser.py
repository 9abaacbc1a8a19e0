"""Browser login state (OIDC Core, RFC 6749 §4.1, RFC 9126, RFC 9700 §4.14).

Every credential here is stored only as a keyed hash (:class:`authserver.crypto.SecretHasher`):
the authorization request's handle (a pushed ``request_uri`` or the in-flight login), the
authorization code, the browser session cookie and the refresh token. What the upstream
leg must remember (its PKCE verifier, ``state`` and ``nonce``) is sealed
(:mod:`authserver.sealing`), bound to the request row and the browser that started it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db


class AuthorizationRequest(db.Model):
    """An authorization request: pushed (RFC 9126, ``request_uri``) or started at
    ``/authorize``, until the browser comes back from the upstream IdP and a code is issued.

    ``params`` holds the request as validated at the edge (redirect URI, scopes, state, nonce,
    PKCE challenge, audience, prompt, max_age, hints, response mode); ``browser_hash`` binds the
    in-flight login to the browser that started it (a cookie), ``upstream_state_hash`` finds the
    row when the upstream IdP redirects back; ``upstream_leg_sealed`` holds the upstream PKCE
    verifier and nonce. Single use: ``used_at`` is set when a code is issued or it is refused.
    """

    __tablename__ = "authorization_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"), index=True)
    handle_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    pushed: Mapped[bool] = mapped_column(Boolean, default=False)
    device_session_pk: Mapped[int | None] = mapped_column(
        ForeignKey("device_sessions.id", ondelete="SET NULL"), nullable=True)
    browser_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    idp_name: Mapped[str | None] = mapped_column(String(63), nullable=True)
    upstream_state_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    upstream_leg_sealed: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class AuthorizationCode(db.Model):
    """RFC 6749 §4.1.2: single use, short-lived, bound to the client, the redirect URI and the
    PKCE challenge (RFC 7636). ``issued_jtis`` and ``refresh_family`` name what its redemption
    issued, so a replayed code revokes them (§4.1.2, RFC 9700 §4.2.1)."""

    __tablename__ = "authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    code_challenge: Mapped[str] = mapped_column(String(128))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    browser_sid: Mapped[str | None] = mapped_column(String(32), nullable=True)
    idp_name: Mapped[str | None] = mapped_column(String(63), nullable=True)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    audience: Mapped[str | None] = mapped_column(String(255), nullable=True)
    nonce: Mapped[str | None] = mapped_column(String(255), nullable=True)
    auth_time: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    issued_jtis: Mapped[list] = mapped_column(JSON, default=list)
    refresh_family: Mapped[str | None] = mapped_column(String(32), nullable=True)

    # --- what Authlib's grant asks of a code ------------------------------------------
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return " ".join(self.scopes or [])


class BrowserSession(db.Model):
    """Single sign-on across a realm's clients: the cookie's hash, the user, when and through
    which IdP they logged in; ``clients`` are those that received codes through it (logout)."""

    __tablename__ = "browser_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"), index=True)
    sid: Mapped[str] = mapped_column(String(32), unique=True)
    cookie_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    idp_name: Mapped[str | None] = mapped_column(String(63), nullable=True)
    auth_time: Mapped[int] = mapped_column(BigInteger)
    clients: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    ended_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    def to_dict(self) -> dict[str, Any]:
        return {"sid": self.sid, "idp": self.idp_name, "auth_time": self.auth_time,
                "clients": list(self.clients or []), "created_at": self.created_at,
                "expires_at": self.expires_at, "ended_at": self.ended_at}


class RefreshToken(db.Model):
    """RFC 6749 §6 with rotation (RFC 9700 §4.14.2): every use spends the token and issues the
    next of its ``family``; presenting a spent one revokes the whole family. ``family_expires_at``
    is the absolute limit no rotation extends."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("ix_refresh_tokens_family", "realm_id", "family"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    realm_id: Mapped[int] = mapped_column(ForeignKey("realms.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(32))
    client_id: Mapped[str] = mapped_column(String(64))
    user_pk: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    browser_sid: Mapped[str | None] = mapped_column(String(32), nullable=True)
    idp_name: Mapped[str | None] = mapped_column(String(63), nullable=True)
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    audience: Mapped[str | None] = mapped_column(String(255), nullable=True)
    auth_time: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[int] = mapped_column(BigInteger)
    family_expires_at: Mapped[int] = mapped_column(BigInteger)
    used_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    revoked_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)

    # --- what Authlib's grant asks of a refresh token ---------------------------------
    def check_client(self, client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return " ".join(self.scopes or [])
