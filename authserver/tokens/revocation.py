"""RFC 7009 revocation state, kept small: a revoked ``jti`` until its token expires, and
"not before" cut-offs for every token of a user ("log out everywhere") or of a client.

:func:`token_is_revoked` is the one check introspection, re-exchange and the admin API use.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from authserver.events import payloads
from authserver.events.outbox import publish
from authserver.extensions import db
from authserver.identity.users import get_user
from authserver.models import BrowserSession, Client, DeviceSession, Realm, RefreshToken, RevokedToken, User
from authserver.registry import audit
from authserver.registry.clients import get_client
from authserver.registry.transactions import commit_admin_change
from authserver.state import app_state


def _jti_hash(issuer: str, jti: str) -> str:
    return hashlib.sha256(f"{issuer}|{jti}".encode()).hexdigest()


def revoke_token(claims: dict[str, Any]) -> None:
    """Revoke one of our tokens by its ``jti``; kept until the token would expire anyway."""
    row = {"jti_hash": _jti_hash(claims["iss"], claims["jti"]), "expires_at": int(claims["exp"])}
    now = int(app_state().clock())
    try:
        with db.engine.begin() as connection:
            connection.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
            connection.execute(insert(RevokedToken).values(**row))
    except IntegrityError:
        pass  # already revoked


def token_is_revoked(realm: Realm, claims: dict[str, Any]) -> bool:
    """Revoked ``jti``, a missing or disabled client, the client's or the user's cut-off, a
    user gone or not active: read fresh, in one round trip (:meth:`Reads.token_state`)."""
    uid = claims.get("uid")
    state = app_state().reads.token_state(realm.id, _jti_hash(claims["iss"], claims["jti"]),
                                          claims.get("client_id"), uid)
    if state.jti_revoked:
        return True
    issued_at = int(claims.get("iat") or 0)
    if not state.client_found or state.client_disabled or issued_at <= (state.client_not_before or -1):
        return True
    if uid is None:
        return False  # a service token: only its client's state matters
    return not state.user_found or state.user_state != "active" or issued_at <= (state.user_not_before or -1)


def revoke_user_tokens(realm: Realm, key: str, actor: str) -> User:
    """Every token of the user issued until now stops working; its device sessions end."""
    user = get_user(realm, key)
    now = int(app_state().clock())
    user.tokens_not_before = now
    ended = list(db.session.scalars(select(DeviceSession).where(DeviceSession.user_pk == user.id,
                                                               DeviceSession.ended_at.is_(None))))
    for session in ended:
        session.ended_at = now
        publish(realm, "session.ended", payloads.session(session, user, "tokens_revoked"), actor)
    _end_browser_login(realm, now, BrowserSession.user_pk == user.id, RefreshToken.user_pk == user.id)
    audit.record(realm, actor, "user.revoke_tokens", "user", user.uid, after={"tokens_not_before": now})
    publish(realm, "user.tokens_revoked", payloads.tokens_revoked(user, now, ended), actor)
    db.session.commit()
    return user


def _end_browser_login(realm: Realm, now: int, sessions, refresh_tokens) -> None:
    """Refresh tokens (and, for a user, browser sessions) would outlive a cut-off: end them."""
    db.session.execute(update(RefreshToken).where(RefreshToken.realm_id == realm.id, refresh_tokens,
                                                  RefreshToken.revoked_at.is_(None)).values(revoked_at=now))
    if sessions is not None:
        db.session.execute(update(BrowserSession).where(BrowserSession.realm_id == realm.id, sessions,
                                                        BrowserSession.ended_at.is_(None)).values(ended_at=now))


def revoke_client_tokens(realm: Realm, client_id: str, actor: str) -> Client:
    client = get_client(realm, client_id)
    now = int(app_state().clock())
    client.tokens_not_before = now
    _end_browser_login(realm, now, None, RefreshToken.client_id == client_id)
    audit.record(realm, actor, "client.revoke_tokens", "client", client_id,
                 after={"tokens_not_before": now})
    publish(realm, "client.tokens_revoked", {"client_id": client_id, "not_before": now}, actor)
    commit_admin_change()
    return client
