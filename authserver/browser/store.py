"""What a browser login keeps between requests: the authorization request while the user
logs in upstream (RFC 9126 pushed requests included), the codes (RFC 6749 §4.1.2), and the
browser sessions behind single sign-on (OIDC Core §3.1.2.3).

Every handle, code and cookie is 256 bits of randomness and stored only as a keyed hash;
each is single use where it must be (``UPDATE … WHERE used_at IS NULL``, so two processes
cannot both spend one) and expires. Writes join the request's transaction: the caller
commits, so a refused step leaves nothing behind.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select, update

from authserver.browser.authorization import AuthorizationParams
from authserver.crypto import new_secret
from authserver.extensions import db
from authserver.models import AuthorizationCode, AuthorizationRequest, BrowserSession, User
from authserver.models.user import ACTIVE
from authserver.state import RealmContext


def request_ttl() -> int:
    """RFC 9126 §2.2: the pushed request's lifetime (its ``expires_in``); an interactive login."""
    return current_app.config["AUTHORIZATION_REQUEST_SECONDS"]


def code_ttl() -> int:
    """RFC 6749 §4.1.2: "a maximum authorization code lifetime of 10 minutes is RECOMMENDED"."""
    return current_app.config["AUTHORIZATION_CODE_SECONDS"]


def session_ttl() -> int:
    return current_app.config["BROWSER_SESSION_SECONDS"]

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"


def new_handle() -> str:
    return new_secret(32)


# --- authorization requests ------------------------------------------------------------


def save_request(ctx: RealmContext, params: AuthorizationParams, *, pushed: bool, browser: str | None = None,
                 device_session_pk: int | None = None) -> tuple[str, AuthorizationRequest]:
    handle, now = new_handle(), ctx.now()
    row = AuthorizationRequest(realm_id=ctx.realm.id, handle_hash=ctx.state.hasher.hash(handle),
                               client_id=params.client_id, params=params.to_dict(), pushed=pushed,
                               device_session_pk=device_session_pk,
                               browser_hash=ctx.state.hasher.hash(browser) if browser else None,
                               created_at=now, expires_at=now + request_ttl())
    db.session.add(row)
    db.session.flush()
    return handle, row


def pushed_request(ctx: RealmContext, request_uri: str, client_id: str) -> AuthorizationRequest | None:
    """RFC 9126 §4: a pushed request, once, by the client that pushed it, before it expires."""
    if not request_uri.startswith(REQUEST_URI_PREFIX):
        return None
    row = _request_by_hash(ctx, ctx.state.hasher.hash(request_uri[len(REQUEST_URI_PREFIX):]))
    if row is None or not row.pushed or row.client_id != client_id or row.expires_at <= ctx.now():
        return None
    if not spend(ctx, AuthorizationRequest, row):
        return None
    return row


def pending_request(ctx: RealmContext, handle: str, browser: str | None) -> AuthorizationRequest | None:
    """An in-flight login, only in the browser that started it."""
    row = _request_by_hash(ctx, ctx.state.hasher.hash(handle))
    if row is None or row.used_at is not None or row.expires_at <= ctx.now():
        return None
    return row if same_browser(ctx, row, browser) else None


def request_by_upstream_state(ctx: RealmContext, state_hash: str) -> AuthorizationRequest | None:
    return db.session.scalars(select(AuthorizationRequest).where(
        AuthorizationRequest.realm_id == ctx.realm.id,
        AuthorizationRequest.upstream_state_hash == state_hash)).first()


def same_browser(ctx: RealmContext, row: AuthorizationRequest, browser: str | None) -> bool:
    if not browser or not row.browser_hash:
        return False
    return hmac.compare_digest(ctx.state.hasher.hash(browser), row.browser_hash)


def _request_by_hash(ctx: RealmContext, handle_hash: str) -> AuthorizationRequest | None:
    return db.session.scalars(select(AuthorizationRequest).where(
        AuthorizationRequest.realm_id == ctx.realm.id, AuthorizationRequest.handle_hash == handle_hash)).first()


def spend(ctx: RealmContext, model, row) -> bool:
    """Mark ``row`` used; False when another request did first (the row is single use)."""
    now = ctx.now()
    result = db.session.execute(update(model).where(model.id == row.id, model.used_at.is_(None))
                                .values(used_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    row.used_at = now
    return True


# --- authorization codes ---------------------------------------------------------------


def issue_code(ctx: RealmContext, params: AuthorizationParams, user_pk: int, session: BrowserSession,
               idp_name: str | None) -> str:
    code, now = new_secret(32), ctx.now()
    db.session.add(AuthorizationCode(
        realm_id=ctx.realm.id, code_hash=ctx.state.hasher.hash(code), client_id=params.client_id,
        redirect_uri=params.redirect_uri, code_challenge=params.code_challenge, user_pk=user_pk,
        browser_sid=session.sid, idp_name=idp_name, scopes=params.scopes, audience=params.audience,
        nonce=params.nonce, auth_time=session.auth_time, created_at=now, expires_at=now + code_ttl(),
        issued_jtis=[]))
    return code


def find_code(ctx: RealmContext, code: str) -> AuthorizationCode | None:
    return db.session.scalars(select(AuthorizationCode).where(
        AuthorizationCode.realm_id == ctx.realm.id,
        AuthorizationCode.code_hash == ctx.state.hasher.hash(code))).first()


# --- browser sessions ------------------------------------------------------------------


@dataclass(frozen=True)
class NewBrowserSession:
    cookie: str
    session: BrowserSession


def start_session(ctx: RealmContext, user_pk: int, idp_name: str | None) -> NewBrowserSession:
    cookie, now = new_secret(32), ctx.now()
    session = BrowserSession(realm_id=ctx.realm.id, sid=secrets.token_hex(16),
                             cookie_hash=ctx.state.hasher.hash(cookie), user_pk=user_pk, idp_name=idp_name,
                             auth_time=now, clients=[], created_at=now, expires_at=now + session_ttl())
    db.session.add(session)
    return NewBrowserSession(cookie, session)


def current_session(ctx: RealmContext, cookie: str | None) -> tuple[BrowserSession, User] | None:
    """The browser's live session and its active user, or None."""
    if not cookie:
        return None
    row = db.session.execute(select(BrowserSession, User).join(User, User.id == BrowserSession.user_pk).where(
        BrowserSession.realm_id == ctx.realm.id,
        BrowserSession.cookie_hash == ctx.state.hasher.hash(cookie))).first()
    if row is None:
        return None
    session, user = row
    if session.ended_at is not None or session.expires_at <= ctx.now() or user.state != ACTIVE:
        return None
    return session, user


def session_by_sid(ctx: RealmContext, sid: str) -> BrowserSession | None:
    return db.session.scalars(select(BrowserSession).where(
        BrowserSession.realm_id == ctx.realm.id, BrowserSession.sid == sid)).first()


def note_client(session: BrowserSession, client_id: str) -> None:
    if client_id not in (session.clients or []):
        session.clients = [*(session.clients or []), client_id]


def end_session(ctx: RealmContext, session: BrowserSession) -> None:
    if session.ended_at is None:
        session.ended_at = ctx.now()
