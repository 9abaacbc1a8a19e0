"""Issuing a token (RFC 9068, RFC 8693 §2.2.1): the one function every path that issues
tokens calls — the token exchange, client credentials, anonymous sessions.

:func:`issue` shapes the claims (lifetime capped, never past the subject token's expiry, a
fresh ``jti``, the ACL filled in), lets the chat backend's token profile reshape them, signs
(the realm's active key, or the profile's vendor key), counts the user for usage, and
commits the request's transaction — the identity decision, the usage row and this token
stand or fall together. Profile failures map to the same errors on every path.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidGrantError

from authserver.errors import NotFound, TemporarilyUnavailableError
from authserver.extensions import db
from authserver.identity.decision import Decision
from authserver.models import ChatBackend, Client
from authserver.plugin_api import GrantedToken, PluginConfigError, TokenProfile
from authserver.state import RealmContext
from authserver.tokens import acl, usage
from authserver.tokens.signing import AT_JWT, new_jti, sign_jwt, sign_with_realm_key

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Issuance:
    """Everything the pipeline decided; ``decision`` None is a service token (the client itself)."""

    client: Client
    audience: str
    scopes: list[str]
    ttl: int
    backend: ChatBackend | None = None
    profile: TokenProfile | None = None
    decision: Decision | None = None
    act: dict[str, Any] | None = None
    sid: str | None = None
    workspace: str | None = None  # verified (backend assertion, trusted IdP claim)
    unverified: dict[str, Any] | None = None  # non-verified data stated with this request
    acl_request: tuple | None = None  # the ACL a backend assertion asks for
    not_after: int | None = None  # never outlive the subject token (re-exchange)


@dataclass(frozen=True)
class Issued:
    """The signed token. ``jti`` and ``exp`` are its claims when it is one of ours (issued under
    the realm's issuer with both), what revoking it here names; None for a token a profile
    issued under another issuer, or without them."""

    token: str
    issued_token_type: str | None
    expires_in: int
    scopes: list[str]
    jti: str | None = None
    exp: int | None = None

    def bearer_response(self) -> dict[str, Any]:
        body = {"access_token": self.token, "token_type": "Bearer", "expires_in": self.expires_in,
                "scope": " ".join(self.scopes)}
        if self.issued_token_type:
            body["issued_token_type"] = self.issued_token_type
        return body


def profile_for(ctx: RealmContext, backend: ChatBackend) -> TokenProfile:
    """The backend's token profile; a misconfigured one is the server's fault (503). The
    realm's signing key is taken here too, before the request writes anything
    (:meth:`RealmContext.signing_key`)."""
    try:
        profile = ctx.state.profiles.for_backend(backend)
    except PluginConfigError as exc:
        log.error("chat backend %s is misconfigured: %s", backend.audience, exc.key)
        raise TemporarilyUnavailableError(description="The chat backend is not configured.") from None
    with contextlib.suppress(NotFound):  # a vendor profile signs with its own key
        ctx.signing_key()
    return profile


def issue(ctx: RealmContext, issuance: Issuance) -> Issued:
    now = ctx.now()
    expires_at = _expiry(ctx, issuance, now)
    if issuance.decision is None:
        token, claims = _service_token(ctx, issuance, now, expires_at)
        issued_type = None
    else:
        token, claims = _user_token(ctx, _granted(ctx, issuance, now, expires_at), issuance.profile)
        issued_type = issuance.profile.issued_token_type
    counted = _count(ctx, issuance, now)
    _commit()
    if counted is not None:
        ctx.state.usage.add(counted)
    jti, exp = _revocable(ctx, claims)
    return Issued(token=token, issued_token_type=issued_type, expires_in=expires_at - now,
                  scopes=issuance.scopes, jti=jti, exp=exp)


def _revocable(ctx: RealmContext, claims: dict[str, Any]) -> tuple[str | None, int | None]:
    """The ``jti`` and ``exp`` the token was signed with, when it is one of ours (the realm's
    issuer); else ``(None, None)``: a vendor profile's token is not ours to revoke."""
    if claims.get("iss") != ctx.issuer or "jti" not in claims or "exp" not in claims:
        return None, None
    return claims["jti"], claims["exp"]


def _commit() -> None:
    """Commit the request's transaction. A request that read its rows outside it (a returning
    user, :mod:`authserver.tokens.reads`) and wrote nothing has nothing to commit: its session
    may have begun a transaction that never took a connection, and the request's teardown
    closes that for free. No session at all (nothing on this request touched one): nothing
    to commit, and none is made just to find that out."""
    if not db.session.registry.has():
        return
    session = db.session()
    if session.new or session.dirty or session.deleted:
        session.commit()
        return
    transaction = session.get_transaction()
    if transaction is not None and getattr(transaction, "_connections", True):  # SQLAlchemy 2: bound ones
        session.commit()


def _expiry(ctx: RealmContext, issuance: Issuance, now: int) -> int:
    ttl = max(1, min(issuance.ttl, ctx.settings.max_token_lifetime))
    if issuance.profile is not None and issuance.profile.max_lifetime:
        ttl = min(ttl, issuance.profile.max_lifetime)
    expires_at = now + ttl
    if issuance.not_after is not None:
        expires_at = min(expires_at, issuance.not_after)
    if expires_at <= now:
        raise InvalidGrantError(description="The subject token has expired.")
    return expires_at


def _granted(ctx: RealmContext, issuance: Issuance, now: int, expires_at: int) -> GrantedToken:
    decision, backend = issuance.decision, issuance.backend
    user = decision.user
    template = acl.fill_template(backend.acl_template, user.user_id, user.uid)
    rules = acl.restrict(issuance.acl_request, template)
    return GrantedToken(
        issuer=ctx.issuer, subject=user.user_id or user.uid, audience=backend.audience,
        client_id=issuance.client.client_id, scopes=tuple(issuance.scopes), issued_at=now,
        expires_at=expires_at, jti=new_jti(), uid=user.uid, identified=user.identified,
        verified=decision.verified, idp=decision.idp, name=user.name, given_name=user.given_name,
        family_name=user.family_name, email=user.email, custom=user.custom,
        unverified=_unverified(user.unverified, issuance.unverified),
        acl=tuple(rules) if rules is not None else None, workspace=issuance.workspace,
        act=issuance.act, sid=issuance.sid)


def _unverified(stored: dict | None, stated: dict | None) -> dict | None:
    merged = {**(stored or {}), **(stated or {})}
    return merged or None


def _user_token(ctx: RealmContext, granted: GrantedToken, profile: TokenProfile) -> tuple[str, dict[str, Any]]:
    """The token the profile shaped, signed, and the claims it carries."""
    try:
        shaped = profile.shape(granted)
    except ValueError as exc:  # the profile cannot represent this user (e.g. too long an id)
        log.info("token profile %s refused the user: %s", profile.name, exc.__class__.__name__)
        raise InvalidGrantError(description="The chat backend cannot represent this user.") from None
    claims = dict(shaped.claims)
    if shaped.key is None:
        token = sign_with_realm_key(ctx, dict(shaped.header), claims)
    else:
        token = sign_jwt(dict(shaped.header), claims, shaped.key, shaped.algorithm)
    return token, claims


def _service_token(ctx: RealmContext, issuance: Issuance, now: int, expires_at: int) -> tuple[str, dict[str, Any]]:
    """A client-credentials token (RFC 9068 §2.2): the client itself is the subject."""
    client_id = issuance.client.client_id
    claims = {"iss": ctx.issuer, "sub": client_id, "aud": issuance.audience, "client_id": client_id,
              "scope": " ".join(issuance.scopes), "iat": now, "exp": expires_at, "jti": new_jti()}
    return sign_with_realm_key(ctx, {"typ": AT_JWT}, claims), claims


def _count(ctx: RealmContext, issuance: Issuance, now: int) -> tuple | None:
    if issuance.decision is None:
        return None
    user = issuance.decision.user
    return usage.record(ctx.state.usage, ctx.realm, usage.month_of(now), user, issuance.client.client_id,
                        issuance.decision.idp or "-", anonymous=not user.identified)


def shape_unsigned(ctx: RealmContext, issuance: Issuance) -> tuple[dict[str, Any], dict[str, Any], str]:
    """What :func:`issue` would sign for a user, unsigned: the profile's header and claims, and
    the issued token type. Nothing is signed, committed or counted (explain)."""
    now = ctx.now()
    granted = _granted(ctx, issuance, now, _expiry(ctx, issuance, now))
    try:
        shaped = issuance.profile.shape(granted)
    except ValueError:  # as in _user_token: the profile cannot represent this user
        raise InvalidGrantError(description="The chat backend cannot represent this user.") from None
    return dict(shaped.header), dict(shaped.claims), issuance.profile.issued_token_type
