"""The browser login's server side without the upstream leg: the authorization request's
checks (errors shown on our page before the redirect URI is known, redirected with ``iss``
after), pushed requests, single sign-on from a browser session, the authorization code and
refresh token grants (PKCE, single use, replay and reuse revoking what was issued), the ID
token, userinfo and logout. The round trip through a real upstream IdP and a real browser is
tests/browser/test_e2e_login.py."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import jwt as pyjwt
import pytest
from sqlalchemy import func, select

from authserver.browser import pages, store
from authserver.browser.authorization import AuthorizationParams
from authserver.extensions import db
from authserver.identity.decision import new_uid
from authserver.models import AuthorizationRequest, BrowserSession, RefreshToken, User
from authserver.models.user import ACTIVE
from authserver.registry import clients
from authserver.registry.realms import get_realm
from authserver.state import RealmContext, app_state
from tests.factories import ISSUER, basic_auth, make_backend, make_client, make_idp

REDIRECT = "https://chat.example.test/callback"
LOGGED_OUT = "https://chat.example.test/bye"
TOKEN_URL = "/realms/default/token"
AUDIENCE = "chat-api"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


@pytest.fixture
def web(app):
    make_backend(app)
    make_idp(app, name="corp", type="oidc", config={"issuer": "https://idp.example.test", "client_ids": ["web"]})
    make_client(app, client_id="web-app", name="Web chat", auth_method="none",
                grant_types=["authorization_code", "refresh_token"], redirect_uris=[REDIRECT],
                post_logout_redirect_uris=[LOGGED_OUT], audiences=[AUDIENCE], scopes="chat:read chat:write",
                idps=["corp"])
    return "web-app"


def realm_ctx(app) -> RealmContext:
    return RealmContext(realm=get_realm("default"), issuer=ISSUER, state=app_state())


def new_user(app, user_id="alice") -> int:
    with app.app_context():
        now = int(app_state().clock())
        user = User(realm_id=get_realm("default").id, uid=new_uid(), user_id=user_id, verified=True,
                    email=f"{user_id}@example.test", given_name="Alice", workspaces=[], state=ACTIVE,
                    created_at=now, last_seen_at=now)
        db.session.add(user)
        db.session.commit()
        return user.id


def logged_in(app, user_pk: int, idp="corp") -> tuple[str, str]:
    """A browser session of the realm: (cookie, sid)."""
    with app.test_request_context():
        new = store.start_session(realm_ctx(app), user_pk, idp)
        db.session.commit()
        return new.cookie, new.session.sid


def code_for(app, user_pk: int, challenge: str, *, client_id="web-app", scopes=("openid", "email", "chat:read"),
             nonce="n-1") -> str:
    """A code as the login issues it, for a user who just logged in."""
    with app.test_request_context():
        ctx = realm_ctx(app)
        session = store.start_session(ctx, user_pk, "corp").session
        params = AuthorizationParams(
            client_id=client_id, redirect_uri=REDIRECT, state="s", nonce=nonce, code_challenge=challenge,
            audience=AUDIENCE, chat_scopes=[s for s in scopes if ":" in s],
            oidc_scopes=[s for s in scopes if ":" not in s], prompt=None, max_age=None, login_hint=None,
            idp_hint=None, response_mode="query")
        db.session.flush()
        code = store.issue_code(ctx, params, user_pk, session, "corp")
        db.session.commit()
        return code


def redeem(http, code, verifier, **extra):
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": "web-app",
            "code_verifier": verifier, **extra}
    response = http.post(TOKEN_URL, data={k: v for k, v in form.items() if v is not None})
    return response.status_code, response.get_json()


def claims(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


def authorize(http, **params):
    verifier, challenge = pkce()
    query = {"client_id": "web-app", "redirect_uri": REDIRECT, "response_type": "code", "scope": "openid chat:read",
             "state": "st-1", "nonce": "n-1", "code_challenge": challenge, "code_challenge_method": "S256", **params}
    return http.get("/realms/default/authorize", query_string={k: v for k, v in query.items() if v is not None})


def redirected(response) -> dict:
    assert response.status_code == 303, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


# --- discovery ---------------------------------------------------------------------------


def test_discovery_advertises_the_browser_login(client):
    metadata = client.get("/realms/default/.well-known/openid-configuration").get_json()
    assert metadata["authorization_endpoint"] == f"{ISSUER}/authorize"
    assert metadata["pushed_authorization_request_endpoint"] == f"{ISSUER}/par"
    assert metadata["userinfo_endpoint"] == f"{ISSUER}/userinfo"
    assert metadata["end_session_endpoint"] == f"{ISSUER}/logout"
    assert metadata["response_types_supported"] == ["code"]
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert metadata["authorization_response_iss_parameter_supported"] is True
    assert {"authorization_code", "refresh_token"} <= set(metadata["grant_types_supported"])
    assert "ES256" in metadata["id_token_signing_alg_values_supported"]


# --- the authorization request -------------------------------------------------------------


def test_an_unknown_client_is_shown_on_our_page_never_redirected(client, web):
    response = authorize(client, client_id="nobody")
    assert response.status_code == 400 and "Location" not in response.headers
    assert "invalid_client" in response.get_data(as_text=True)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("uri", ["https://evil.example/callback", REDIRECT + "/more", REDIRECT + "?x=1",
                                 "https://CHAT.example.test/callback"])
def test_redirect_uris_match_exactly_or_the_error_stays_on_our_page(client, web, uri):
    response = authorize(client, redirect_uri=uri)
    assert response.status_code == 400 and "Location" not in response.headers


def test_native_clients_may_use_any_loopback_port(app, client, web):
    make_client(app, client_id="desktop", name="Desktop", auth_method="none", application_type="native",
                grant_types=["authorization_code"], redirect_uris=["http://127.0.0.1/cb"], audiences=[AUDIENCE],
                scopes="chat:read", idps=["corp"])
    params = {"client_id": "desktop", "prompt": "none"}
    assert redirected_to(authorize(client, redirect_uri="http://127.0.0.1:53123/cb", **params)).startswith(
        "http://127.0.0.1:53123/cb?")
    assert authorize(client, redirect_uri="http://127.0.0.1:53123/other", **params).status_code == 400
    web_loopback = authorize(client, redirect_uri="http://127.0.0.1:53123/cb")  # web-app: exact only
    assert web_loopback.status_code == 400


def redirected_to(response) -> str:
    assert response.status_code == 303
    return response.headers["Location"]


@pytest.mark.parametrize(("params", "error"), [
    ({"code_challenge": None}, "invalid_request"),
    ({"code_challenge_method": "plain"}, "invalid_request"),
    ({"code_challenge": "short"}, "invalid_request"),
    ({"response_type": "token"}, "unsupported_response_type"),
    ({"scope": "chat:read"}, "invalid_scope"),
    ({"scope": "openid admin"}, "invalid_scope"),
    ({"audience": "other-api"}, "invalid_target"),
    ({"prompt": "consent"}, "invalid_request"),
    ({"max_age": "-1"}, "invalid_request"),
    ({"response_mode": "fragment"}, "invalid_request"),
])
def test_a_bad_request_goes_back_with_state_and_iss(client, web, params, error):
    answer = redirected(authorize(client, **params))
    assert answer["error"] == error and answer["state"] == "st-1" and answer["iss"] == ISSUER


def test_repeated_parameters_are_refused(client, web):
    response = client.get("/realms/default/authorize?client_id=web-app&client_id=web-app")
    assert response.status_code == 400


def test_prompt_none_without_a_session_is_login_required(client, web):
    answer = redirected(authorize(client, prompt="none"))
    assert answer == {"error": "login_required", "error_description": "the user is not signed in",
                      "state": "st-1", "iss": ISSUER}


def test_a_session_token_never_travels_in_a_url(client, web):
    assert redirected(authorize(client, session_token="abc"))["error"] == "invalid_request"


def test_a_browser_session_answers_with_a_code_at_once(app, client, web):
    cookie, _sid = logged_in(app, new_user(app))
    client.set_cookie(pages.SESSION_COOKIE, cookie, domain="localhost", path="/realms/default/")
    answer = redirected(authorize(client))
    assert answer["code"] and answer["state"] == "st-1" and answer["iss"] == ISSUER


def test_prompt_login_and_max_age_do_not_reuse_the_session(app, client, clock, web):
    cookie, _sid = logged_in(app, new_user(app))
    client.set_cookie(pages.SESSION_COOKIE, cookie, domain="localhost", path="/realms/default/")
    clock.advance(120)
    for params in ({"prompt": "login"}, {"max_age": "60"}):
        response = authorize(client, **params)
        assert "code=" not in response.headers.get("Location", "")
    assert "code" in redirected(authorize(client, max_age="600"))


def test_form_post_answers_with_a_self_submitting_form_and_no_inline_script(app, client, web):
    cookie, _sid = logged_in(app, new_user(app))
    client.set_cookie(pages.SESSION_COOKIE, cookie, domain="localhost", path="/realms/default/")
    response = authorize(client, response_mode="form_post")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and f'action="{REDIRECT}"' in body and 'name="code"' in body
    assert 'name="iss"' in body and "<script src=" in body
    assert "https://chat.example.test" in response.headers["Content-Security-Policy"]


def test_a_client_that_must_push_is_refused_without_par(app, client, web):
    with app.app_context():
        clients.update_client(get_realm("default"), "web-app", {"require_par": True}, "test")
    assert redirected(authorize(client))["error"] == "invalid_request"


# --- pushed authorization requests (RFC 9126) -------------------------------------------------


def par(http, **params):
    _verifier, challenge = pkce()
    form = {"client_id": "web-app", "redirect_uri": REDIRECT, "response_type": "code", "scope": "openid chat:read",
            "state": "st-1", "code_challenge": challenge, "code_challenge_method": "S256", **params}
    return http.post("/realms/default/par", data={k: v for k, v in form.items() if v is not None})


def test_a_pushed_request_is_named_once_by_its_request_uri(app, client, web):
    response = par(client)
    assert response.status_code == 201 and response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["request_uri"].startswith("urn:ietf:params:oauth:request_uri:") and body["expires_in"] == 600
    cookie, _sid = logged_in(app, new_user(app))
    client.set_cookie(pages.SESSION_COOKIE, cookie, domain="localhost", path="/realms/default/")
    query = {"client_id": "web-app", "request_uri": body["request_uri"]}
    assert "code" in redirected(client.get("/realms/default/authorize", query_string=query))
    again = client.get("/realms/default/authorize", query_string=query)
    assert again.status_code == 400 and "request_uri" in again.get_data(as_text=True)


def test_a_pushed_request_lives_for_authorization_request_seconds(app, client, clock, web):
    app.config["AUTHORIZATION_REQUEST_SECONDS"] = 90
    body = par(client).get_json()
    assert body["expires_in"] == 90
    clock.advance(91)
    cookie, _sid = logged_in(app, new_user(app))
    client.set_cookie(pages.SESSION_COOKIE, cookie, domain="localhost", path="/realms/default/")
    late = client.get("/realms/default/authorize", query_string={"client_id": "web-app",
                                                                 "request_uri": body["request_uri"]})
    assert late.status_code == 400 and "request_uri" in late.get_data(as_text=True)


def test_a_pushed_request_is_checked_like_any_other(client, web):
    assert par(client, code_challenge=None).get_json()["error"] == "invalid_request"
    assert par(client, redirect_uri="https://evil.example/cb").get_json()["error"] == "invalid_request"
    assert par(client, request_uri="urn:x").status_code == 400
    assert par(client, client_id="nobody").status_code == 401


def test_a_confidential_client_authenticates_at_par(app, client, web):
    created = make_client(app, client_id="server-app", name="Server", auth_method="client_secret_basic",
                          grant_types=["authorization_code"], redirect_uris=[REDIRECT], audiences=[AUDIENCE],
                          scopes="chat:read", idps=["corp"])
    _verifier, challenge = pkce()
    form = {"redirect_uri": REDIRECT, "response_type": "code", "scope": "openid", "code_challenge": challenge,
            "code_challenge_method": "S256"}
    wrong = client.post("/realms/default/par", data=form, headers=basic_auth("server-app", "wrong"))
    assert wrong.status_code == 401 and wrong.get_json()["error"] == "invalid_client"
    right = client.post("/realms/default/par", data=form, headers=basic_auth("server-app", created["client_secret"]))
    assert right.status_code == 201
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuthorizationRequest)) == 1


# --- the authorization code grant -----------------------------------------------------------


def test_a_code_gives_a_chat_jwt_an_id_token_and_a_refresh_token(app, client, web):
    verifier, challenge = pkce()
    status, body = redeem(client, code_for(app, new_user(app), challenge), verifier)
    assert status == 200, body
    access, id_token = claims(body["access_token"]), claims(body["id_token"])
    assert access["aud"] == AUDIENCE and access["sub"] == "alice" and "chat:read" in access["scope"].split()
    assert pyjwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"
    assert id_token["aud"] == "web-app" and id_token["iss"] == ISSUER and id_token["nonce"] == "n-1"
    assert id_token["sub"] == access["sub"] and id_token["email"] == "alice@example.test"
    assert isinstance(id_token["auth_time"], int) and id_token["sid"]
    digest = hashlib.sha256(body["access_token"].encode()).digest()
    assert id_token["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert body["refresh_token"] and body["token_type"] == "Bearer"


@pytest.mark.parametrize(("change", "error"), [
    ({"code_verifier": "x" * 43}, "invalid_grant"),
    ({"code_verifier": None}, "invalid_request"),
    ({"redirect_uri": "https://chat.example.test/other"}, "invalid_grant"),
    ({"code": "not-a-code"}, "invalid_grant"),
])
def test_a_code_is_bound_to_its_verifier_and_redirect_uri(app, client, web, change, error):
    verifier, challenge = pkce()
    code = code_for(app, new_user(app), challenge)
    form = {"code": code, "verifier": verifier, **change}
    status, body = redeem(client, form.pop("code"), form.pop("verifier"), **form)
    assert (status, body["error"]) == (400, error)


def test_a_code_is_bound_to_its_client(app, client, web):
    make_client(app, client_id="other-app", name="Other", auth_method="none", grant_types=["authorization_code"],
                redirect_uris=[REDIRECT], audiences=[AUDIENCE], scopes="chat:read", idps=["corp"])
    verifier, challenge = pkce()
    status, body = redeem(client, code_for(app, new_user(app), challenge), verifier, client_id="other-app")
    assert (status, body["error"]) == (400, "invalid_grant")


def test_an_expired_code_is_refused(app, client, clock, web):
    verifier, challenge = pkce()
    code = code_for(app, new_user(app), challenge)
    clock.advance(app.config["AUTHORIZATION_CODE_SECONDS"] + 1)
    assert redeem(client, code, verifier)[1]["error"] == "invalid_grant"


def test_a_replayed_code_revokes_what_it_issued(app, client, web):
    verifier, challenge = pkce()
    code = code_for(app, new_user(app), challenge)
    first = redeem(client, code, verifier)[1]
    status, body = redeem(client, code, verifier)
    assert (status, body["error"]) == (400, "invalid_grant")
    introspected = client.post("/realms/default/introspect", data={"token": first["access_token"]},
                               headers=_introspector(app))
    assert introspected.get_json() == {"active": False}
    refreshed = client.post(TOKEN_URL, data={"grant_type": "refresh_token", "client_id": "web-app",
                                             "refresh_token": first["refresh_token"]})
    assert refreshed.get_json()["error"] == "invalid_grant"


def _introspector(app) -> dict:
    created = make_client(app, client_id="chat-service", name="Chat", auth_method="client_secret_basic",
                          grant_types=["client_credentials"], serves=[AUDIENCE])
    return basic_auth("chat-service", created["client_secret"])


def test_a_disabled_user_gets_nothing_for_a_code(app, client, web):
    verifier, challenge = pkce()
    user_pk = new_user(app)
    code = code_for(app, user_pk, challenge)
    with app.app_context():
        db.session.get(User, user_pk).state = "disabled"
        db.session.commit()
    assert redeem(client, code, verifier)[1]["error"] == "invalid_grant"


# --- refresh tokens ---------------------------------------------------------------------------


def refresh_with(http, token, **extra):
    response = http.post(TOKEN_URL, data={"grant_type": "refresh_token", "client_id": "web-app",
                                          "refresh_token": token, **extra})
    return response.status_code, response.get_json()


def test_refresh_rotates_and_reuse_revokes_the_family(app, client, web):
    verifier, challenge = pkce()
    first = redeem(client, code_for(app, new_user(app), challenge), verifier)[1]
    status, second = refresh_with(client, first["refresh_token"])
    assert status == 200 and second["refresh_token"] != first["refresh_token"]
    assert claims(second["id_token"])["sub"] == "alice"
    assert refresh_with(client, first["refresh_token"])[1]["error"] == "invalid_grant"  # reuse
    assert refresh_with(client, second["refresh_token"])[1]["error"] == "invalid_grant"  # family revoked
    with app.app_context():
        rows = db.session.scalars(select(RefreshToken)).all()
        assert len(rows) == 2 and all(row.revoked_at is not None for row in rows)
        assert all(first["refresh_token"] not in (row.token_hash,) for row in rows)


def test_refresh_never_widens_the_scope(app, client, web):
    verifier, challenge = pkce()
    first = redeem(client, code_for(app, new_user(app), challenge), verifier)[1]
    assert refresh_with(client, first["refresh_token"], scope="openid chat:write")[1]["error"] == "invalid_scope"
    status, narrowed = refresh_with(client, first["refresh_token"], scope="openid chat:read")
    assert status == 200 and narrowed["scope"] == "openid chat:read"


def test_a_family_ends_at_its_absolute_lifetime(app, client, clock, web):
    with app.app_context():
        clients.update_client(get_realm("default"), "web-app",
                              {"refresh_token_ttl": 3600, "refresh_token_absolute_ttl": 5000}, "test")
    verifier, challenge = pkce()
    token = redeem(client, code_for(app, new_user(app), challenge), verifier)[1]["refresh_token"]
    for _ in range(2):
        clock.advance(2000)
        status, body = refresh_with(client, token)
        assert status == 200
        token = body["refresh_token"]
    clock.advance(1100)  # 5,100 s after the login: past the family's absolute limit
    assert refresh_with(client, token)[1]["error"] == "invalid_grant"


def test_refresh_tokens_are_stored_only_as_keyed_hashes(app, client, web):
    verifier, challenge = pkce()
    body = redeem(client, code_for(app, new_user(app), challenge), verifier)[1]
    with app.app_context():
        stored = db.session.scalars(select(RefreshToken.token_hash)).all()
    assert stored and body["refresh_token"] not in stored


# --- userinfo ---------------------------------------------------------------------------------


def test_userinfo_answers_the_users_claims(app, client, web):
    verifier, challenge = pkce()
    body = redeem(client, code_for(app, new_user(app), challenge), verifier)[1]
    response = client.get("/realms/default/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert response.status_code == 200
    assert response.get_json() == {"sub": "alice", "email": "alice@example.test", "email_verified": True}


def test_userinfo_refuses_a_missing_or_foreign_token(app, client, web):
    missing = client.get("/realms/default/userinfo")
    assert missing.status_code == 401 and missing.headers["WWW-Authenticate"].startswith("Bearer")
    forged = client.get("/realms/default/userinfo", headers={"Authorization": "Bearer abc.def.ghi"})
    assert forged.status_code == 401 and forged.get_json()["error"] == "invalid_token"


# --- logout -----------------------------------------------------------------------------------


def test_logout_with_the_sessions_id_token_ends_it_and_returns(app, client, web):
    verifier, challenge = pkce()
    user_pk = new_user(app)
    body = redeem(client, code_for(app, user_pk, challenge), verifier)[1]
    sid = claims(body["id_token"])["sid"]
    with app.app_context():
        cookie_session = db.session.scalars(select(BrowserSession).where(BrowserSession.sid == sid)).one()
    # the test cannot know the cookie of the session the code came from: start the browser's own
    cookie, own_sid = logged_in(app, user_pk)
    client.set_cookie(pages.SESSION_COOKIE, cookie, domain="localhost", path="/realms/default/")
    hint_body = redeem_for_session(app, client, user_pk, own_sid)
    response = client.get("/realms/default/logout", query_string={
        "id_token_hint": hint_body["id_token"], "post_logout_redirect_uri": LOGGED_OUT, "state": "bye-1"})
    assert response.status_code == 303 and response.headers["Location"] == f"{LOGGED_OUT}?state=bye-1"
    assert "authserver_session=;" in response.headers["Set-Cookie"]
    with app.app_context():
        ended = db.session.scalars(select(BrowserSession).where(BrowserSession.sid == own_sid)).one()
        assert ended.ended_at is not None and cookie_session.ended_at is None
    assert refresh_with(client, hint_body["refresh_token"])[1]["error"] == "invalid_grant"


def redeem_for_session(app, http, user_pk, sid):
    verifier, challenge = pkce()
    with app.test_request_context():
        ctx = realm_ctx(app)
        session = store.session_by_sid(ctx, sid)
        params = AuthorizationParams(client_id="web-app", redirect_uri=REDIRECT, state=None, nonce=None,
                                     code_challenge=challenge, audience=AUDIENCE, chat_scopes=["chat:read"],
                                     oidc_scopes=["openid"], prompt=None, max_age=None, login_hint=None,
                                     idp_hint=None, response_mode="query")
        code = store.issue_code(ctx, params, user_pk, session, "corp")
        db.session.commit()
    return redeem(http, code, verifier)[1]


def test_logout_without_a_hint_asks_and_needs_the_csrf_token(app, client, web):
    cookie, sid = logged_in(app, new_user(app))
    client.set_cookie(pages.SESSION_COOKIE, cookie, domain="localhost", path="/realms/default/")
    asked = client.get("/realms/default/logout")
    assert asked.status_code == 200 and 'name="csrf_token"' in asked.get_data(as_text=True)
    forged = client.post("/realms/default/logout", data={"csrf_token": "forged"})
    assert forged.status_code == 200 and 'name="csrf_token"' in forged.get_data(as_text=True)
    token = asked.get_data(as_text=True).split('name="csrf_token" value="')[1].split('"')[0]
    done = client.post("/realms/default/logout", data={"csrf_token": token})
    assert done.status_code == 200 and "signed out" in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(BrowserSession).where(BrowserSession.sid == sid)).one().ended_at


def test_logout_never_returns_to_an_unregistered_uri(app, client, web):
    response = client.get("/realms/default/logout", query_string={
        "client_id": "web-app", "post_logout_redirect_uri": "https://evil.example/"})
    assert response.status_code == 400 and "Location" not in response.headers


# --- revocation reaches refresh tokens and browser sessions -----------------------------------


def test_revoking_a_refresh_token_revokes_its_family(app, client, web):
    verifier, challenge = pkce()
    first = redeem(client, code_for(app, new_user(app), challenge), verifier)[1]
    second = refresh_with(client, first["refresh_token"])[1]
    response = client.post("/realms/default/revoke", data={"token": second["refresh_token"], "client_id": "web-app",
                                                            "token_type_hint": "refresh_token"})
    assert response.status_code == 200
    assert refresh_with(client, second["refresh_token"])[1]["error"] == "invalid_grant"


def test_revoking_a_users_tokens_ends_refresh_and_single_sign_on(app, client, web):
    from authserver.tokens.revocation import revoke_user_tokens

    user_pk = new_user(app)
    verifier, challenge = pkce()
    body = redeem(client, code_for(app, user_pk, challenge), verifier)[1]
    cookie, _sid = logged_in(app, user_pk)
    client.set_cookie(pages.SESSION_COOKIE, cookie, domain="localhost", path="/realms/default/")
    with app.app_context():
        revoke_user_tokens(get_realm("default"), "alice", "test")
    assert refresh_with(client, body["refresh_token"])[1]["error"] == "invalid_grant"
    assert "code=" not in authorize(client).headers.get("Location", "")


def test_erasing_a_user_removes_their_browser_login_rows(app, client, web):
    from authserver.identity.users import delete_user

    user_pk = new_user(app)
    verifier, challenge = pkce()
    redeem(client, code_for(app, user_pk, challenge), verifier)
    with app.app_context():
        delete_user(get_realm("default"), "alice", "test")
        for model in (BrowserSession, RefreshToken):
            assert db.session.scalar(select(func.count()).select_from(model)) == 0


# --- a browser app at /token (CORS), open redirects, frames -----------------------------------


def test_only_the_clients_registered_origin_reads_token_answers(app, client, web):
    verifier, challenge = pkce()
    code = code_for(app, new_user(app), challenge)
    ours = client.post(TOKEN_URL, headers={"Origin": "https://chat.example.test"}, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": "web-app",
        "code_verifier": verifier})
    assert ours.status_code == 200 and ours.headers["Access-Control-Allow-Origin"] == "https://chat.example.test"
    theirs = client.post(TOKEN_URL, headers={"Origin": "https://evil.example"}, data={
        "grant_type": "refresh_token", "refresh_token": ours.get_json()["refresh_token"], "client_id": "web-app"})
    assert "Access-Control-Allow-Origin" not in theirs.headers


EVIL = "https://evil.example/steal"


@pytest.mark.parametrize("params", [
    {"client_id": "nobody", "redirect_uri": EVIL},
    {"redirect_uri": EVIL},
    {"redirect_uri": EVIL, "code_challenge": None},
    {"redirect_uri": EVIL, "prompt": "none"},
    {"redirect_uri": EVIL, "response_mode": "form_post"},
    {"client_id": None, "redirect_uri": EVIL},
])
def test_no_error_path_redirects_to_an_unregistered_uri(client, web, params):
    response = authorize(client, **params)
    assert "evil.example" not in response.headers.get("Location", "")
    assert "evil.example" not in response.get_data(as_text=True)


def test_every_page_refuses_to_be_framed(app, client, web):
    cookie, _sid = logged_in(app, new_user(app))
    pages_seen = [authorize(client, client_id="nobody"), client.get("/realms/default/logout")]
    client.set_cookie(pages.SESSION_COOKIE, cookie, domain="localhost", path="/realms/default/")
    pages_seen += [client.get("/realms/default/logout"), authorize(client, response_mode="form_post")]
    for response in pages_seen:
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_an_unreachable_upstream_is_a_503_page_and_nothing_is_redirected(client, web):
    """The fixture's IdP (https://idp.example.test) cannot be reached from here: its discovery
    fails, and the browser sees authserver's page, not a redirect anywhere."""
    response = authorize(client)
    assert response.status_code == 503 and "Location" not in response.headers
    assert "temporarily_unavailable" in response.get_data(as_text=True)
    assert response.headers["X-Frame-Options"] == "DENY"
