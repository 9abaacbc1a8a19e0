"""The browser's two forms, the login page's IdP choice (``POST /authorize/choose``) and the
logout confirmation (``POST /logout``), are read by the strict form parser
(:mod:`authserver.edge.form`) like every OAuth body: a repeated field, bytes that are not UTF-8
after percent-decoding, or a NUL get authserver's error page (400) with nothing written; an
ordinary submission still signs in or out."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from authserver.browser import pages
from authserver.extensions import db
from authserver.models import AuthorizationRequest, BrowserSession
from authserver.registry import idps
from authserver.registry.realms import create_realm, get_realm
from tests.browser.test_code_flow import logged_in, new_user, pkce
from tests.factories import make_backend, make_client, make_idp
from tests.support.upstream_idp import UpstreamIdP

REDIRECT = "https://chat.example.test/callback"
FORM = "application/x-www-form-urlencoded"
CHOOSE_URL = "/realms/default/authorize/choose"
LOGOUT_URL = "/realms/default/logout"
#: the refusals, by what is wrong with the body: (how to spoil a valid body, the page's words)
SPOILED = {
    "repeated": (lambda body: body.replace("idp=corp", "idp=corp&idp=partner"), "is repeated"),
    "not utf-8": (lambda body: body.replace("idp=corp", "idp=corp%FF"), "not a valid UTF-8 form"),
    "nul": (lambda body: body.replace("idp=corp", "idp=co%00rp"), "must not contain NUL"),
}


def authorize_query(challenge: str) -> dict:
    return {"client_id": "web-app", "redirect_uri": REDIRECT, "response_type": "code", "state": "app-state",
            "scope": "openid chat:read", "code_challenge": challenge, "code_challenge_method": "S256"}


def hidden(page: str, name: str) -> str:
    return page.split(f'name="{name}" value="')[1].split('"')[0]


def login_page(http) -> tuple[str, str]:
    """The login page (the client may use two IdPs): its request handle and CSRF token."""
    response = http.get("/realms/default/authorize", query_string=authorize_query(pkce()[1]))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'name="idp"' in page, page[:500]
    return hidden(page, "request"), hidden(page, "csrf_token")


def choice(handle: str, csrf: str, idp: str = "corp") -> str:
    return f"request={handle}&csrf_token={csrf}&idp={idp}"


def pending(app) -> AuthorizationRequest:
    with app.app_context():
        return db.session.scalars(select(AuthorizationRequest)).one()


def refused_on_our_page(response, words: str) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page[:500]
    assert "Location" not in response.headers and "invalid_request" in page and words in page
    assert response.headers["X-Frame-Options"] == "DENY" and response.headers["Cache-Control"] == "no-store"


# --- the login page's choice ----------------------------------------------------------------


@pytest.fixture
def two_idps(app):
    """A client that may sign in through two IdPs (unreachable: nothing here gets that far)."""
    make_backend(app)
    for name in ("corp", "partner"):
        make_idp(app, name=name, type="oidc", config={"issuer": f"https://{name}.example.test", "client_ids": ["web"]})
    make_client(app, client_id="web-app", name="Web chat", auth_method="none", grant_types=["authorization_code"],
                redirect_uris=[REDIRECT], audiences=["chat-api"], scopes="chat:read", idps=["corp", "partner"])


@pytest.mark.parametrize("spoil", SPOILED.values(), ids=SPOILED.keys())
def test_a_spoiled_choice_is_refused_on_our_page_and_nothing_is_written(app, client, two_idps, spoil):
    handle, csrf = login_page(client)
    spoiled, words = spoil
    response = client.post(CHOOSE_URL, data=spoiled(choice(handle, csrf)), content_type=FORM)
    refused_on_our_page(response, words)
    row = pending(app)
    assert row.idp_name is None and row.upstream_state_hash is None and row.upstream_leg_sealed is None


def test_a_choice_is_read_from_the_body_only(app, client, two_idps):
    handle, csrf = login_page(client)
    response = client.post(CHOOSE_URL, query_string=choice(handle, csrf), data=f"request={handle}",
                           content_type=FORM)
    assert response.status_code == 403 and "the form has expired" in response.get_data(as_text=True)
    refused_on_our_page(client.post(CHOOSE_URL, data={"request": handle, "csrf_token": csrf, "idp": "corp"},
                                    content_type="multipart/form-data"), "must be application/x-www-form-urlencoded")
    assert pending(app).idp_name is None


# --- the logout confirmation ----------------------------------------------------------------


@pytest.fixture
def signed_in(app, client):
    """A browser with a session of the realm, on the logout page: (its sid, the form's token)."""
    cookie, sid = logged_in(app, new_user(app))
    client.set_cookie(pages.SESSION_COOKIE, cookie, domain="localhost", path="/realms/default/")
    asked = client.get(LOGOUT_URL)
    assert asked.status_code == 200
    return sid, hidden(asked.get_data(as_text=True), "csrf_token")


def ended(app, sid: str) -> bool:
    with app.app_context():
        return db.session.scalars(select(BrowserSession).where(BrowserSession.sid == sid)).one().ended_at is not None


@pytest.mark.parametrize(("body", "words"), [
    ("csrf_token={csrf}&csrf_token={csrf}", "is repeated"),
    ("csrf_token={csrf}&state=%FF", "not a valid UTF-8 form"),
    ("csrf_token={csrf}&state=a%00b", "must not contain NUL"),
], ids=["repeated", "not utf-8", "nul"])
def test_a_spoiled_logout_confirmation_is_refused_and_the_session_lives(app, client, signed_in, body, words):
    sid, csrf = signed_in
    response = client.post(LOGOUT_URL, data=body.format(csrf=csrf), content_type=FORM)
    refused_on_our_page(response, words)
    assert pages.SESSION_COOKIE not in response.headers.get("Set-Cookie", "")
    assert not ended(app, sid)


def test_a_logout_confirmation_still_signs_out(app, client, signed_in):
    sid, csrf = signed_in
    response = client.post(LOGOUT_URL, data=f"csrf_token={csrf}", content_type=FORM)
    assert response.status_code == 200 and "signed out" in response.get_data(as_text=True)
    assert ended(app, sid)


# --- an ordinary choice, through a real upstream IdP ----------------------------------------


UPSTREAM_BASE = "https://auth.test"
UPSTREAM_ISSUER = f"{UPSTREAM_BASE}/realms/default"
BROKER_SECRET = "broker-secret-0123456789abcdef0123456789abcdef"


def callback_of(idp: str) -> str:
    return f"{UPSTREAM_ISSUER}/broker/{idp}/callback"


@pytest.fixture(scope="module")
def upstream():
    broker = {"client_id": "authserver", "client_secret": BROKER_SECRET,
              "redirect_uris": [callback_of("corp"), callback_of("partner")]}
    try:
        with UpstreamIdP(clients=[broker]) as idp:
            yield idp
    except Exception as exc:  # node or the npm package missing: say so once
        if "npm ci" in str(exc):
            pytest.skip(str(exc).splitlines()[0])
        raise


def test_an_ordinary_choice_goes_upstream_and_comes_back_with_a_code(make_app, clock, upstream):
    clock.current = time.time()  # the upstream's tokens carry wall-clock time
    app = make_app(ISSUER_BASE_URL=UPSTREAM_BASE)
    with app.app_context():
        create_realm("default")
        for name in ("corp", "partner"):
            idps.create_idp(get_realm("default"), {
                "name": name, "type": "oidc", "config": {"issuer": upstream.issuer, "client_ids": ["authserver"]},
                "upstream_client_id": "authserver", "upstream_auth_method": "client_secret_basic",
                "upstream_secret": BROKER_SECRET}, "test")
    make_backend(app)
    make_client(app, client_id="web-app", name="Web chat", auth_method="none", grant_types=["authorization_code"],
                redirect_uris=[REDIRECT], audiences=["chat-api"], scopes="chat:read", idps=["corp", "partner"])
    http = app.test_client()
    handle, csrf = login_page(http)
    chosen = http.post(CHOOSE_URL, data=choice(handle, csrf, "partner"), content_type=FORM)
    assert chosen.status_code == 303, chosen.get_data(as_text=True)[:500]
    assert chosen.headers["Location"].startswith(upstream.discovery["authorization_endpoint"])
    assert pending(app).idp_name == "partner"
    answer = upstream.follow_authorization(chosen.headers["Location"], "alice", callback_of("partner"))
    assert "code" in answer, answer
    back = http.get(urlsplit(callback_of("partner")).path, query_string=answer)
    assert back.status_code == 303 and back.headers["Location"].startswith(REDIRECT)
    query = parse_qs(urlsplit(back.headers["Location"]).query)
    assert query["state"] == ["app-state"] and query["iss"] == [UPSTREAM_ISSUER] and query["code"]
