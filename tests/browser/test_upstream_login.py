"""The browser login through a real upstream OpenID Provider (npm ``oidc-provider``): the
browser is played by the test (it follows redirects and keeps cookies), authserver runs
in-process, the upstream over loopback. The upstream leg's checks (state, browser binding,
``iss``, nonce, single use) each get a case that must be refused, and the user the login
reaches is the one the token exchange gives for the same upstream subject."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import jwt as pyjwt
import pytest
import requests
from joserfc.jwk import ECKey
from sqlalchemy import func, select

from authserver.browser import pages
from authserver.extensions import db
from authserver.models import IdentityProvider, User
from authserver.plugin_api import TOKEN_TYPE_ID_TOKEN
from authserver.registry import idps
from authserver.registry.realms import create_realm, get_realm
from tests.factories import TOKEN_EXCHANGE, make_backend, make_client
from tests.support.upstream_idp import UpstreamIdP

pytestmark = pytest.mark.integration
BASE = "https://auth.test"
ISSUER = f"{BASE}/realms/default"
CALLBACK = f"{ISSUER}/broker/corp/callback"
REDIRECT = "https://chat.example.test/callback"
BROKER_SECRET = "broker-secret-0123456789abcdef0123456789abcdef"
BROKER_KEY = ECKey.generate_key("P-256", private=True)


@pytest.fixture(scope="module")
def upstream():
    broker_jwk = {**BROKER_KEY.as_dict(private=False), "kid": "broker-1", "alg": "ES256", "use": "sig"}
    clients = [
        {"client_id": "authserver", "client_secret": BROKER_SECRET, "redirect_uris": [CALLBACK]},
        {"client_id": "authserver-pkjwt", "token_endpoint_auth_method": "private_key_jwt",
         "token_endpoint_auth_signing_alg": "ES256", "jwks": {"keys": [broker_jwk]}, "redirect_uris": [CALLBACK]},
        {"client_id": "chat-web", "client_secret": "chat-web-secret-0123456789abcdef0123456789abcdef",
         "redirect_uris": ["https://chat-web.example.test/callback"]},
    ]
    try:
        with UpstreamIdP(clients=clients) as idp:
            yield idp
    except Exception as exc:  # node or the npm package missing: say so once
        if "npm ci" in str(exc):
            pytest.skip(str(exc).splitlines()[0])
        raise


@pytest.fixture
def broker(make_app, clock, upstream):
    clock.current = time.time()  # the upstream's tokens carry wall-clock time
    app = make_app(ISSUER_BASE_URL=BASE)
    with app.app_context():
        create_realm("default")
        idps.create_idp(get_realm("default"), {
            "name": "corp", "type": "oidc",
            "config": {"issuer": upstream.issuer, "client_ids": ["authserver", "chat-web"]},
            "upstream_client_id": "authserver", "upstream_auth_method": "client_secret_basic",
            "upstream_secret": BROKER_SECRET}, "test")
    make_backend(app)
    make_client(app, client_id="web-app", name="Web chat", auth_method="none",
                grant_types=["authorization_code", "refresh_token", TOKEN_EXCHANGE], redirect_uris=[REDIRECT],
                audiences=["chat-api"], scopes="chat:read", idps=["corp"])
    return Browser(app, upstream)


class Browser:
    """A browser: authserver through the Flask test client (cookies kept), the upstream over
    loopback with its own cookie jar."""

    def __init__(self, app, upstream):
        self.app, self.upstream = app, upstream
        self.http, self.elsewhere = app.test_client(), requests.Session()

    def authorize(self, **params) -> dict:
        self.verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(self.verifier.encode()).digest()).rstrip(b"=").decode()
        query = {"client_id": "web-app", "redirect_uri": REDIRECT, "response_type": "code", "state": "app-state",
                 "scope": "openid email chat:read", "nonce": "app-nonce", "code_challenge": challenge,
                 "code_challenge_method": "S256", **params}
        return self.follow(self.http.get("/realms/default/authorize", query_string=query))

    def follow(self, response, username="alice", stop_at_callback=False):
        """Follow redirects until the app's redirect URI; log in upstream as ``username``."""
        for _ in range(15):
            location = response.headers.get("Location")
            assert response.status_code in (302, 303) and location, response.get_data(as_text=True)[:500] \
                if hasattr(response, "get_data") else response.text[:500]
            if location.startswith(REDIRECT):
                return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
            if location.startswith(CALLBACK):
                if stop_at_callback:
                    return location
                parts = urlsplit(location)
                response = self.http.get(parts.path, query_string=parts.query)
            elif urlsplit(location).path.startswith("/interaction/"):
                response = self.elsewhere.post(urljoin(self.upstream.issuer + "/", location),
                                               data={"login": username}, allow_redirects=False, timeout=10)
            else:
                response = self.elsewhere.get(urljoin(self.upstream.issuer + "/", location),
                                              allow_redirects=False, timeout=10)
        raise AssertionError("too many redirects")

    def redeem(self, code: str) -> dict:
        response = self.http.post("/realms/default/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, "client_id": "web-app",
            "code_verifier": self.verifier})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def callback(self, location: str):
        parts = urlsplit(location)
        return self.http.get(parts.path, query_string=parts.query)


def claims(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


def test_a_login_through_the_upstream_reaches_the_exchanges_user(broker, upstream):
    answer = broker.authorize()
    assert answer["state"] == "app-state" and answer["iss"] == ISSUER
    tokens = broker.redeem(answer["code"])
    chat, id_token = claims(tokens["access_token"]), claims(tokens["id_token"])
    assert id_token["aud"] == "web-app" and id_token["nonce"] == "app-nonce"
    assert chat["idp"] == "corp" and chat["verified"] is True
    upstream_id_token = upstream.login("alice", client_id="chat-web")["id_token"]
    exchanged = broker.http.post("/realms/default/token", data={
        "grant_type": TOKEN_EXCHANGE, "client_id": "web-app", "subject_token": upstream_id_token,
        "subject_token_type": TOKEN_TYPE_ID_TOKEN, "audience": "chat-api"}).get_json()
    assert claims(exchanged["access_token"])["uid"] == chat["uid"]
    with broker.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_a_second_login_in_the_same_browser_skips_the_upstream(broker):
    broker.redeem(broker.authorize()["code"])
    first_visit = broker.http.get("/realms/default/authorize", query_string={
        "client_id": "web-app", "redirect_uri": REDIRECT, "response_type": "code", "scope": "openid",
        "code_challenge": "x" * 43, "code_challenge_method": "S256"})
    assert first_visit.headers["Location"].startswith(REDIRECT + "?code=")


def test_private_key_jwt_authenticates_the_broker_upstream(broker):
    private = json.dumps({**BROKER_KEY.as_dict(private=True), "kid": "broker-1", "alg": "ES256"})
    with broker.app.app_context():
        idps.update_idp(get_realm("default"), "corp", {"config": {"issuer": broker.upstream.issuer,
                                                                  "client_ids": ["authserver-pkjwt", "chat-web"]},
                                                       "upstream_client_id": "authserver-pkjwt",
                                                       "upstream_auth_method": "private_key_jwt",
                                                       "upstream_secret": private}, "test")
    assert "code" in broker.authorize()


def test_the_upstream_secret_is_sealed_at_rest(broker):
    with broker.app.app_context():
        row = db.session.scalars(select(IdentityProvider)).one()
        assert row.upstream_secret_sealed and BROKER_SECRET.encode() not in row.upstream_secret_sealed
        assert row.to_dict()["upstream_secret_set"] is True and BROKER_SECRET not in json.dumps(row.to_dict())


def test_the_callback_works_once(broker):
    location = broker_callback(broker)
    assert broker.callback(location).headers["Location"].startswith(REDIRECT + "?code=")
    replay = broker.callback(location)
    assert replay.status_code == 400 and "Location" not in replay.headers


def broker_callback(broker) -> str:
    """Up to the upstream's redirect back to authserver, not followed."""
    broker.verifier = "v" * 43
    response = broker.http.get("/realms/default/authorize", query_string={
        "client_id": "web-app", "redirect_uri": REDIRECT, "response_type": "code", "scope": "openid",
        "state": "app-state", "code_challenge": "x" * 43, "code_challenge_method": "S256", "prompt": "login"})
    return broker.follow(response, stop_at_callback=True)


def test_a_callback_in_another_browser_is_refused(broker, upstream):
    location = broker_callback(broker)
    stranger = Browser(broker.app, upstream)
    refused = stranger.callback(location)
    assert refused.status_code == 400 and "another browser" in refused.get_data(as_text=True)


@pytest.mark.parametrize("change", [
    lambda q: {**q, "state": "forged"},
    lambda q: {k: v for k, v in q.items() if k != "state"},
    lambda q: {**q, "iss": "https://evil.example"},
    lambda q: {k: v for k, v in q.items() if k != "iss"},  # the upstream promises iss (RFC 9207)
    lambda q: {**q, "code": "forged"},
])
def test_an_altered_callback_is_refused(broker, change):
    parts = urlsplit(broker_callback(broker))
    query = change({k: v[0] for k, v in parse_qs(parts.query).items()})
    response = broker.http.get(parts.path + "?" + urlencode(query))
    location = response.headers.get("Location", "")
    assert "code=" not in location
    assert response.status_code == 400 or "error=access_denied" in location


def test_an_upstream_error_goes_back_to_the_app_as_access_denied(broker):
    parts = urlsplit(broker_callback(broker))
    state = parse_qs(parts.query)["state"][0]
    response = broker.http.get(parts.path, query_string={"error": "access_denied", "state": state,
                                                        "iss": broker.upstream.issuer})
    answer = parse_qs(urlsplit(response.headers["Location"]).query)
    assert answer["error"] == ["access_denied"] and answer["iss"] == [ISSUER] and answer["state"] == ["app-state"]


def test_anonymous_user_is_upgraded_through_a_pushed_request(broker):
    with broker.app.app_context():
        from authserver.registry import clients

        clients.update_client(get_realm("default"), "web-app", {"allow_anonymous": True}, "test")
    session = broker.http.post("/realms/default/sessions", json={"client_id": "web-app", "audience": "chat-api"})
    anonymous = session.get_json()
    broker.verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(broker.verifier.encode()).digest()).rstrip(b"=").decode()
    pushed = broker.http.post("/realms/default/par", data={
        "client_id": "web-app", "redirect_uri": REDIRECT, "response_type": "code", "scope": "openid chat:read",
        "code_challenge": challenge, "code_challenge_method": "S256", "session_token": anonymous["session_token"]})
    assert pushed.status_code == 201, pushed.get_json()
    answer = broker.follow(broker.http.get("/realms/default/authorize", query_string={
        "client_id": "web-app", "request_uri": pushed.get_json()["request_uri"]}), username="bob")
    chat = claims(broker.redeem(answer["code"])["access_token"])
    assert chat["uid"] == anonymous["_id"] and chat["identified"] is True  # the anonymous user, now bob


def test_the_session_cookie_is_httponly_lax_and_scoped_to_the_realm(broker):
    broker.authorize()
    cookie = broker.http.get_cookie(pages.SESSION_COOKIE, domain="localhost", path="/realms/default/")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_an_id_token_without_this_logins_nonce_is_refused(broker):
    """The leg's nonce is what the ID token must carry: a leg whose nonce differs (as if the
    upstream's answer belonged to another login) ends in access_denied, no code."""
    from authserver.models import AuthorizationRequest
    from authserver.state import app_state

    location = broker_callback(broker)
    with broker.app.app_context():
        row = db.session.scalars(select(AuthorizationRequest).where(AuthorizationRequest.idp_name == "corp")).one()
        context = f"upstream-leg:{row.realm_id}:corp"
        leg = json.loads(app_state().box.open(row.upstream_leg_sealed, context=context))
        row.upstream_leg_sealed = app_state().box.seal(json.dumps({**leg, "nonce": "another-login"}).encode(),
                                                       context=context)
        db.session.commit()
    answer = parse_qs(urlsplit(broker.callback(location).headers["Location"]).query)
    assert answer["error"] == ["access_denied"] and "nonce" in answer["error_description"][0]
    assert "code" not in answer
