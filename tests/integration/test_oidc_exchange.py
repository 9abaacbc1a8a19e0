"""RFC 8693 token exchange against a real OpenID Provider over loopback.

A user logs in at the upstream (npm ``oidc-provider``), the app exchanges the ID token at
authserver served on a real port, and the chat JWT is verified against authserver's JWKS
by PyJWT's ``PyJWKClient``, a library this project did not write.
"""

from __future__ import annotations

import time

import jwt
import pytest
import requests

from authserver.plugin_api import TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_ID_TOKEN
from authserver.registry import clients, idps
from authserver.registry.realms import create_realm, get_realm
from tests.factories import TOKEN_EXCHANGE, make_backend, make_client
from tests.live_server import LiveServer

pytestmark = pytest.mark.integration
UPSTREAM_WORDS = ("aud", "azp", "kid", "jwks", "127.0.0.1", "other-app", "chat-web", "signature")


class Harness:
    """authserver on a live port, with a public client allowed the IdPs it is given."""

    def __init__(self, app, server, clock):
        self.app, self.url, self.clock = app, server.url, clock
        self.issuer = f"{server.url}/realms/default"

    def connect(self, name, upstream, *client_ids, **options):
        with self.app.app_context():
            idp, _ = idps.create_idp(get_realm("default"), {
                "name": name, "type": "oidc",
                "config": {"issuer": upstream.issuer, "client_ids": list(client_ids or ["chat-web"]),
                           **options}}, "test")
            return idp.to_dict()

    def allow(self, *idp_names):
        with self.app.app_context():
            clients.update_client(get_realm("default"), "chat-web", {"idps": list(idp_names)}, "test")

    def exchange(self, token, token_type=TOKEN_TYPE_ID_TOKEN, **extra):
        self.clock.current = max(self.clock.current, time.time())  # upstream tokens carry wall time
        form = {"grant_type": TOKEN_EXCHANGE, "client_id": "chat-web", "subject_token": token,
                "subject_token_type": token_type, "audience": "chat-api", **extra}
        return requests.post(f"{self.url}/realms/default/token", data=form, timeout=10)

    def chat_claims(self, response, leeway=120) -> dict:
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        signing_key = jwt.PyJWKClient(f"{self.url}/realms/default/jwks").get_signing_key_from_jwt(token)
        assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
        return jwt.decode(token, signing_key.key, algorithms=["ES256"], audience="chat-api",
                          issuer=self.issuer, leeway=leeway)


@pytest.fixture
def authserver(make_app, clock):
    clock.current = time.time()
    app = make_app()
    with app.app_context():
        create_realm("default")
    make_backend(app)
    make_backend(app, audience="billing-api", scopes="billing:read", default_scopes="billing:read")
    make_client(app, client_id="chat-web", auth_method="none", grant_types=[TOKEN_EXCHANGE],
                audiences=["chat-api"], scopes="chat:read chat:write")
    with LiveServer(app) as server:
        app.config["ISSUER_BASE_URL"] = server.url
        yield Harness(app, server, clock)


@pytest.fixture
def corp(authserver, upstream_idp):
    authserver.connect("corp", upstream_idp, userinfo=True)
    authserver.allow("corp")
    return authserver


def assert_refused_without_detail(response, status=400, error="invalid_request"):
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    assert not any(word in body["error_description"] for word in UPSTREAM_WORDS), body


def test_id_token_exchange_issues_a_chat_jwt(corp, upstream_idp):
    tokens = upstream_idp.login("alice")
    response = corp.exchange(tokens["id_token"])
    body = response.json()
    assert body["issued_token_type"] == TOKEN_TYPE_ACCESS_TOKEN and body["token_type"] == "Bearer"
    claims = corp.chat_claims(response)
    assert claims["sub"] == "corp:alice" and claims["idp"] == "corp" and claims["client_id"] == "chat-web"
    assert claims["identified"] is True and claims["verified"] is True
    assert (claims["given_name"], claims["family_name"]) == ("Alice", "Example")
    assert claims["scope"] == "chat:read"


def test_same_user_again_is_the_same_user(corp, upstream_idp):
    first = corp.chat_claims(corp.exchange(upstream_idp.login("alice")["id_token"]))
    again = corp.chat_claims(corp.exchange(upstream_idp.login("alice")["id_token"]))
    bob = corp.chat_claims(corp.exchange(upstream_idp.login("bob")["id_token"]))
    assert (first["sub"], first["uid"]) == (again["sub"], again["uid"])
    assert bob["uid"] != first["uid"]


def test_second_connection_with_the_same_sub_is_another_user(corp, upstream_idp):
    corp.connect("partner", upstream_idp, "other-app")
    corp.allow("corp", "partner")
    via_corp = corp.chat_claims(corp.exchange(upstream_idp.login("alice")["id_token"], idp="corp"))
    via_partner = corp.chat_claims(corp.exchange(upstream_idp.login("alice", client_id="other-app")["id_token"],
                                                 idp="partner"))
    assert via_partner["sub"] == "partner:alice" and via_partner["idp"] == "partner"
    assert via_partner["uid"] != via_corp["uid"]


def test_id_token_of_another_upstream_client_is_refused(corp, upstream_idp):
    assert_refused_without_detail(corp.exchange(upstream_idp.login("alice", client_id="other-app")["id_token"]))


def test_tokens_of_idp_a_cannot_log_in_at_idp_b(corp, upstream_idp):
    corp.connect("partner", upstream_idp, "other-app")
    corp.allow("corp", "partner")
    alice_at_corp = upstream_idp.login("alice")["id_token"]
    assert_refused_without_detail(corp.exchange(alice_at_corp, idp="partner"))
    alice_at_partner = upstream_idp.login("alice", client_id="other-app")["id_token"]
    assert_refused_without_detail(corp.exchange(alice_at_partner, idp="corp"))


def test_idp_not_allowed_for_the_client_is_refused(corp, upstream_idp):
    corp.connect("partner", upstream_idp, "chat-web")
    assert_refused_without_detail(corp.exchange(upstream_idp.login("alice")["id_token"], idp="partner"))


def test_audience_not_allowed_is_invalid_target(corp, upstream_idp):
    response = corp.exchange(upstream_idp.login("alice")["id_token"], audience="billing-api")
    assert (response.status_code, response.json()["error"]) == (400, "invalid_target")


def test_access_token_checked_at_userinfo(corp, upstream_idp):
    tokens = upstream_idp.login("alice")
    by_id_token = corp.chat_claims(corp.exchange(tokens["id_token"]))
    by_access_token = corp.chat_claims(corp.exchange(tokens["access_token"], TOKEN_TYPE_ACCESS_TOKEN))
    assert by_access_token["uid"] == by_id_token["uid"]
    assert_refused_without_detail(corp.exchange("not-a-token-the-upstream-issued", TOKEN_TYPE_ACCESS_TOKEN))


def test_access_tokens_need_userinfo_enabled(authserver, upstream_idp):
    authserver.connect("plain", upstream_idp)
    authserver.allow("plain")
    tokens = upstream_idp.login("alice")
    assert_refused_without_detail(authserver.exchange(tokens["access_token"], TOKEN_TYPE_ACCESS_TOKEN))


def test_exchanges_keep_working_on_cached_keys_while_the_upstream_is_down(corp, upstream_idp):
    first, later = upstream_idp.login("alice")["id_token"], upstream_idp.login("bob")["id_token"]
    corp.chat_claims(corp.exchange(first))  # discovery and keys are now cached
    upstream_idp.stop()
    try:
        corp.clock.advance(1200)  # past the cached copies' freshness: the last good copy stands in
        corp.clock.current = max(corp.clock.current, time.time())
        response = requests.post(f"{corp.url}/realms/default/token", timeout=10, data={
            "grant_type": TOKEN_EXCHANGE, "client_id": "chat-web", "subject_token": later,
            "subject_token_type": TOKEN_TYPE_ID_TOKEN, "audience": "chat-api"})
        assert corp.chat_claims(response, leeway=1300)["sub"] == "corp:bob"
    finally:
        upstream_idp.start()


def test_unreachable_upstream_without_cached_keys_is_503(corp, upstream_idp):
    token = upstream_idp.login("alice")["id_token"]
    corp.connect("fresh", upstream_idp)
    corp.allow("corp", "fresh")
    upstream_idp.stop()
    try:
        response = corp.exchange(token, idp="fresh")
    finally:
        upstream_idp.start()
    assert_refused_without_detail(response, 503, "temporarily_unavailable")
    assert int(response.headers["Retry-After"]) > 0


def test_new_kid_is_fetched_after_the_upstream_rotates(corp, upstream_idp):
    corp.chat_claims(corp.exchange(upstream_idp.login("alice")["id_token"]))
    old_kid = jwt.get_unverified_header(upstream_idp.login("alice")["id_token"])["kid"]
    upstream_idp.rotate_keys()
    rotated = upstream_idp.login("alice")["id_token"]
    assert jwt.get_unverified_header(rotated)["kid"] != old_kid
    corp.clock.advance(31)  # unknown kids trigger at most one refetch per 30 s cool-down
    assert corp.chat_claims(corp.exchange(rotated))["sub"] == "corp:alice"
