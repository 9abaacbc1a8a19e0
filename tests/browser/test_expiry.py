"""Expired browser-login and console state is deleted (authserver.browser.expiry), what can
still be used is kept, and the webhook worker runs it."""

from __future__ import annotations

from sqlalchemy import func, select

from authserver.browser import store
from authserver.browser.authorization import AuthorizationParams
from authserver.browser.expiry import CODE_REPLAY_WINDOW, ENDED_KEPT, purge_expired
from authserver.console import access
from authserver.events.worker import Worker
from authserver.extensions import db
from authserver.models import (
    AuthorizationCode,
    AuthorizationRequest,
    BrowserSession,
    ConsoleLink,
    ConsoleSession,
    RefreshToken,
)
from authserver.registry.clients import find_client
from authserver.tokens import refresh
from tests.browser import test_code_flow as code_flow
from tests.browser.test_code_flow import logged_in, new_user, par, realm_ctx

web = code_flow.web

MODELS = (AuthorizationRequest, AuthorizationCode, BrowserSession, RefreshToken, ConsoleLink, ConsoleSession)


def counts(app) -> dict[str, int]:
    with app.app_context():
        return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model)) for model in MODELS}


def state_of_every_kind(app, client) -> None:
    """A pushed request, a code, a browser session, a refresh token, a console link and session."""
    assert par(client).status_code == 201
    user_pk = new_user(app)
    _cookie, sid = logged_in(app, user_pk)
    with app.test_request_context():
        ctx = realm_ctx(app)
        session = db.session.scalar(select(BrowserSession).where(BrowserSession.sid == sid))
        request = db.session.scalar(select(AuthorizationRequest))
        store.issue_code(ctx, AuthorizationParams.from_dict(request.params), user_pk, session, "corp")
        refresh.issue_refresh_token(ctx, find_client(ctx.realm, "web-app"), user_pk=user_pk, scopes=["openid"],
                                    audience="chat-api", auth_time=session.auth_time, browser_sid=sid,
                                    idp_name="corp", previous=None)
        db.session.commit()
        token, _ = access.create_link(None, "test")
        access.redeem_link(token)


def test_expired_state_is_deleted_and_live_state_kept(app, client, clock, web):
    state_of_every_kind(app, client)
    everything = counts(app)
    assert all(everything.values()), everything
    with app.app_context():
        assert purge_expired(int(clock())) == dict.fromkeys(everything, 0)
    assert counts(app) == everything  # nothing live is touched

    clock.advance(app.config["AUTHORIZATION_REQUEST_SECONDS"] + 1)
    with app.app_context():
        removed = purge_expired(int(clock()))
    assert removed["authorization_requests"] == 1 and removed["authorization_codes"] == 0

    clock.advance(CODE_REPLAY_WINDOW + app.config["AUTHORIZATION_CODE_SECONDS"])
    with app.app_context():
        assert purge_expired(int(clock()))["authorization_codes"] == 1

    clock.advance(max(app.config["BROWSER_SESSION_SECONDS"], app.config["CONSOLE_SESSION_SECONDS"],
                      refresh.MAX_LIFETIME) + ENDED_KEPT + 1)
    with app.app_context():
        purge_expired(int(clock()))
    left = counts(app)
    assert left == dict.fromkeys(left, 0)


def test_the_worker_purges_with_its_pruning(app, client, clock, web):
    state_of_every_kind(app, client)
    clock.advance(app.config["AUTHORIZATION_REQUEST_SECONDS"] + 1)
    with app.app_context():
        Worker(app)._maybe_prune(retention=86400)
    assert counts(app)["authorization_requests"] == 0
