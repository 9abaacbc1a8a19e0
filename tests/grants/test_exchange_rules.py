"""The token exchange's security rules, each with the defect it closes: trust never rises,
emails are linking keys only when vouched, identities never collide, ACL values are never
wildcards, re-exchange and delegation only for the parties entitled to them, subjects and
JOSE segments parsed strictly, and client mistakes never answer 500."""

from __future__ import annotations

import base64
import json
import uuid

import jwt as pyjwt
import pytest
from joserfc.jws import JWSRegistry
from sqlalchemy import func, select

from authserver.extensions import db
from authserver.models import IdentityLink, User
from authserver.plugin_api import TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT
from authserver.registry import clients
from authserver.registry.realms import get_realm
from authserver_verifier.acl import acl_allows
from tests.factories import ISSUER, TOKEN_EXCHANGE, AppBackend, basic_auth, make_backend, make_client
from tests.grants import exchange_fixtures
from tests.grants.exchange_fixtures import AUDIENCE, TOKEN_URL

backend = exchange_fixtures.backend


def exchange(client, backend, assertion, **extra):
    response = client.post(TOKEN_URL, data=backend.exchange_form(assertion, audience=AUDIENCE, **extra))
    return response.status_code, response.get_json()


def claims_of(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


def users_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


# --- trust: a lower-trust login never reaches a verified user -----------------------------


def test_unverified_existing_only_connection_cannot_reach_a_verified_user(app, client, backend, clock):
    status, body = exchange(client, backend, backend.assertion("alice@example.test", now=clock()))
    assert status == 200 and claims_of(body["access_token"])["verified"] is True
    widget = AppBackend(app, name="widget", idp_name="widget", trust="unverified",
                        provisioning="existing_only", user_id_claim="email")
    status, body = exchange(client, widget, widget.assertion("w-1", now=clock(), email="alice@example.test"))
    assert (status, body["error"]) == (400, "invalid_grant")
    by_sub = AppBackend(app, name="widget2", idp_name="widget2", trust="unverified",
                        provisioning="existing_only", user_id_claim="{sub}")
    status, body = exchange(client, by_sub, by_sub.assertion("alice@example.test", now=clock()))
    assert (status, body["error"]) == (400, "invalid_grant")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(IdentityLink)) == 1


def test_an_unvouched_email_never_names_a_user(app, client, backend, clock):
    social = AppBackend(app, name="social", idp_name="social", trust="unverified", user_id_claim="email")
    status, body = exchange(client, social, social.assertion("s-1", now=clock(), email="ceo@example.test"))
    assert (status, body["error"]) == (400, "invalid_grant")
    mail = AppBackend(app, name="mailer", idp_name="mailer", user_id_claim="email")
    status, body = exchange(client, mail, mail.assertion("m-1", now=clock(), email="ceo@example.test",
                                                         email_verified=False))
    assert (status, body["error"]) == (400, "invalid_grant")
    assert users_count(app) == 0


# --- identities never collide -------------------------------------------------------------


def test_a_user_id_equal_to_a_client_id_is_refused(app, client, backend, clock):
    status, body = exchange(client, backend, backend.assertion("app-backend", now=clock()))
    assert (status, body["error"]) == (400, "invalid_grant")


def test_a_user_id_equal_to_an_anonymous_users_id_is_refused(app, client, backend, clock):
    make_client(app, client_id="web", auth_method="none", audiences=[AUDIENCE], scopes="chat:read",
                allow_anonymous=True, grant_types=[TOKEN_EXCHANGE])
    anonymous = client.post("/realms/default/sessions", json={"client_id": "web", "audience": AUDIENCE})
    assert anonymous.status_code == 201, anonymous.get_json()
    status, body = exchange(client, backend, backend.assertion(anonymous.get_json()["_id"], now=clock()))
    assert (status, body["error"]) == (400, "invalid_grant")


# --- ACL values are literal --------------------------------------------------------------


@pytest.mark.parametrize("user_id", ["*", "**", "a/b", "..", "{uid}"])
def test_acl_values_are_never_path_syntax(client, backend, clock, user_id):
    status, body = exchange(client, backend, backend.assertion(user_id, now=clock()))
    assert status == 200, body
    acl = claims_of(body["access_token"])["acl"]
    assert not acl_allows(acl, "GET", "/v1/users/bob/messages")
    assert "*" not in acl[0]["path"].removesuffix("/**")


def test_a_user_named_star_still_reaches_its_own_path(client, backend, clock):
    _, body = exchange(client, backend, backend.assertion("*", now=clock()))
    acl = claims_of(body["access_token"])["acl"]
    assert acl == [{"path": "/v1/users/%2A/**", "methods": ["GET"]}]
    assert acl_allows(acl, "GET", "/v1/users/*/messages")


# --- re-exchange and delegation (RFC 8693 §2.2.2, §4.1) ------------------------------------


@pytest.fixture
def bot(app):
    """A confidential client allowed to delegate, using the app's backend connection."""
    make_client(app, client_id="bot", name="bot", auth_method="client_secret_basic",
                grant_types=["client_credentials", TOKEN_EXCHANGE], audiences=[AUDIENCE],
                scopes="chat:read chat:write", idps=["app"], allow_delegation=True)
    with app.app_context():
        return clients.rotate_secret(get_realm("default"), "bot", "test").client_secret


def test_a_client_cannot_reexchange_another_clients_token(app, client, backend, bot, clock):
    _, body = exchange(client, backend, backend.assertion("dan", now=clock()))
    response = client.post(TOKEN_URL, headers=basic_auth("bot", bot), data={
        "grant_type": TOKEN_EXCHANGE, "subject_token": body["access_token"],
        "subject_token_type": TOKEN_TYPE_ACCESS_TOKEN, "audience": AUDIENCE})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_a_client_serving_the_audience_may_reexchange(app, client, backend, bot, clock):
    _, body = exchange(client, backend, backend.assertion("dan", now=clock()))
    with app.app_context():
        clients.update_client(get_realm("default"), "bot", {"serves": [AUDIENCE]}, "test")
    response = client.post(TOKEN_URL, headers=basic_auth("bot", bot), data={
        "grant_type": TOKEN_EXCHANGE, "subject_token": body["access_token"],
        "subject_token_type": TOKEN_TYPE_ACCESS_TOKEN, "audience": AUDIENCE})
    assert response.status_code == 200, response.get_json()


def test_an_actor_token_of_another_client_is_refused(app, client, backend, bot, clock):
    make_client(app, client_id="svc", name="svc", auth_method="client_secret_basic",
                grant_types=["client_credentials"], audiences=[AUDIENCE], scopes="chat:read")
    with app.app_context():
        svc_secret = clients.rotate_secret(get_realm("default"), "svc", "test").client_secret
    foreign = client.post(TOKEN_URL, headers=basic_auth("svc", svc_secret), data={
        "grant_type": "client_credentials", "audience": AUDIENCE}).get_json()["access_token"]
    response = client.post(TOKEN_URL, headers=basic_auth("bot", bot), data={
        "grant_type": TOKEN_EXCHANGE, "subject_token": backend.assertion("carol", now=clock()),
        "subject_token_type": TOKEN_TYPE_JWT, "audience": AUDIENCE,
        "actor_token": foreign, "actor_token_type": TOKEN_TYPE_ACCESS_TOKEN})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_the_actor_token_cannot_be_the_subject_token(app, client, backend, bot, clock):
    user_token = client.post(TOKEN_URL, headers=basic_auth("bot", bot), data={
        "grant_type": TOKEN_EXCHANGE, "subject_token": backend.assertion("carol", now=clock()),
        "subject_token_type": TOKEN_TYPE_JWT, "audience": AUDIENCE}).get_json()["access_token"]
    response = client.post(TOKEN_URL, headers=basic_auth("bot", bot), data={
        "grant_type": TOKEN_EXCHANGE, "subject_token": user_token, "subject_token_type": TOKEN_TYPE_ACCESS_TOKEN,
        "audience": AUDIENCE, "actor_token": user_token, "actor_token_type": TOKEN_TYPE_ACCESS_TOKEN})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_a_reexchanged_token_never_outlives_its_subject_token(app, client, backend, clock):
    _, body = exchange(client, backend, backend.assertion("erin", now=clock()))
    original = claims_of(body["access_token"])
    clock.advance(original["exp"] - original["iat"] - 100)
    status, again = exchange(client, backend, body["access_token"], subject_token_type=TOKEN_TYPE_ACCESS_TOKEN)
    assert status == 200, again
    assert claims_of(again["access_token"])["exp"] <= original["exp"] and again["expires_in"] <= 100


# --- subjects and JOSE segments, strictly ---------------------------------------------------


@pytest.mark.parametrize("sub", ["é", "a\x00b", "a\nb", "x" * 256])
def test_a_subject_must_be_printable_ascii(client, backend, clock, sub):
    status, body = exchange(client, backend, backend.assertion(sub, now=clock()))
    assert (status, body["error"]) == (400, "invalid_request")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _signed(backend, header: bytes, payload: bytes) -> str:
    signing_input = f"{_b64(header)}.{_b64(payload)}".encode()
    signature = JWSRegistry.algorithms["ES256"].sign(signing_input, backend.key)
    return f"{signing_input.decode()}.{_b64(signature)}"


def _assertion_claims(backend, clock, **extra) -> dict:
    now = int(clock())
    return {"iss": backend.client_id, "sub": "zed", "aud": ISSUER, "iat": now, "exp": now + 120,
            "jti": uuid.uuid4().hex, **extra}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_jose_segments_must_be_utf8(client, backend, clock, encoding):
    header = json.dumps({"alg": "ES256", "kid": "k1"})
    payload = json.dumps(_assertion_claims(backend, clock))
    for token in (_signed(backend, header.encode(), payload.encode(encoding)),
                  _signed(backend, header.encode(encoding), payload.encode())):
        status, body = exchange(client, backend, token)
        assert (status, body["error"]) == (400, "invalid_request")


def test_deeply_nested_payload_is_refused_not_500(client, backend, clock):
    claims = _assertion_claims(backend, clock)
    payload = json.dumps(claims)[:-1] + ', "deep": ' + "[" * 5000 + "]" * 5000 + "}"
    token = _signed(backend, json.dumps({"alg": "ES256", "kid": "k1"}).encode(), payload.encode())
    status, body = exchange(client, backend, token)
    assert (status, body["error"]) == (400, "invalid_request")


# --- client authentication (RFC 6749 §2.3) --------------------------------------------------


@pytest.fixture
def service(app):
    make_backend(app)
    make_client(app, client_id="svc", name="svc", auth_method="client_secret_basic",
                grant_types=["client_credentials"], audiences=[AUDIENCE], scopes="chat:read")
    with app.app_context():
        return clients.rotate_secret(get_realm("default"), "svc", "test").client_secret


def cc(client, headers=None, **form):
    return client.post(TOKEN_URL, headers=headers or {}, data={"grant_type": "client_credentials", **form})


def test_two_authentication_methods_are_invalid_request(client, service):
    response = cc(client, basic_auth("svc", service), client_id="svc", client_secret=service)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


@pytest.mark.parametrize("authorization", ["Basic", "Basic ", "Basic !!!!", "Basic " + _b64(b"\xff\xfe:x"),
                                           "Basic " + base64.b64encode(b"\xff:\xfe").decode(),
                                           "Basic " + base64.b64encode(b"no-colon").decode()])
def test_malformed_basic_credentials_are_401(client, service, authorization):
    response = cc(client, {"Authorization": authorization})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_two_authorization_headers_are_401(client, service):
    headers = [("Authorization", basic_auth("svc", service)["Authorization"]),
               ("Authorization", basic_auth("svc", service)["Authorization"])]
    response = client.post(TOKEN_URL, headers=headers, data={"grant_type": "client_credentials"})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_unknown_client_and_wrong_secret_answer_alike(client, service):
    wrong = cc(client, basic_auth("svc", "not-the-secret"))
    unknown = cc(client, basic_auth("nobody", "whatever"))
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert "[" not in wrong.get_json()["error_description"]


def test_a_tab_in_scope_is_invalid_scope(client, service):
    response = cc(client, basic_auth("svc", service), scope="chat:read\tchat:write")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope"


def test_a_repeated_parameter_is_invalid_request(client, service):
    response = client.post(TOKEN_URL, headers=basic_auth("svc", service),
                           data="grant_type=client_credentials&scope=chat:read&scope=chat:read",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


# --- workspace: stated is non-verified, asserted is verified -------------------------------


def test_workspace_from_a_backend_assertion_is_verified(client, backend, clock):
    _, body = exchange(client, backend, backend.assertion("ws-1", now=clock(), workspace="acme"))
    claims = claims_of(body["access_token"])
    assert claims["workspace"] == "acme" and "workspace" not in (claims.get("unverified") or {})


def test_workspace_stated_with_the_exchange_is_non_verified(client, backend, clock):
    _, body = exchange(client, backend, backend.assertion("ws-2", now=clock()), workspace="acme")
    claims = claims_of(body["access_token"])
    assert "workspace" not in claims and claims["unverified"]["workspace"] == "acme"


# --- a backend assertion's ACL request never exceeds the template ---------------------------


@pytest.mark.parametrize(("template", "requested", "probe"), [
    ([{"path": "/v1/rooms/{user_id}", "methods": ["GET"]}], [{"path": "/v1/rooms/x", "methods": []}],
     ("DELETE", "/v1/rooms/x")),
    ([{"path": "/v1/rooms/*/messages", "methods": ["GET"]}], [{"path": "/v1/rooms//messages", "methods": ["GET"]}],
     ("GET", "/v1/rooms/messages")),
])
def test_a_requested_acl_never_widens_the_template(app, client, clock, template, requested, probe):
    make_backend(app, acl_template=template)
    backend = AppBackend(app)
    _, body = exchange(client, backend, backend.assertion("x", now=clock(), acl=requested))
    assert not acl_allows(claims_of(body["access_token"])["acl"], *probe)
