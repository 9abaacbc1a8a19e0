"""Every bad input gets a clear 4xx and loses nothing: /sessions, /register, introspection and
revocation with malformed or hostile input (each case answered 500, or wrongly, before)."""

from __future__ import annotations

import json

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from authserver.extensions import db
from authserver.models import Client, User
from authserver.registry import clients, registration
from authserver.registry.realms import get_realm
from tests.cli_helpers import admin_token, bearer, cli_error
from tests.factories import TOKEN_EXCHANGE, AppBackend, basic_auth, make_backend, make_client

AUDIENCE = "chat-api"
pytestmark = pytest.mark.filterwarnings("ignore:Key size should be")


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def web(app):
    make_backend(app)
    make_client(app, client_id="web", auth_method="none", audiences=[AUDIENCE], scopes="chat:read",
                allow_anonymous=True, grant_types=[TOKEN_EXCHANGE])


# --- /sessions ----------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    {"client_id": "web", "audience": AUDIENCE, "scope": 7},
    {"client_id": "web", "audience": AUDIENCE, "scope": ["chat:read"]},
    {"client_id": "web", "audience": AUDIENCE, "name": {"first": "x"}},
    {"client_id": "web", "audience": AUDIENCE, "custom": "not an object"},
    {"client_id": "web", "audience": AUDIENCE, "colour": "blue"},
])
def test_sessions_refuses_mistyped_and_unknown_fields(app, client, web, body):
    response = client.post("/realms/default/sessions", json=body)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"
    assert count(app, User) == 0


@pytest.mark.parametrize("raw", [
    '{"client_id": "web", "audience": "chat-api", "name": "\\ud800"}',
    '{"client_id": "web", "audience": "chat-api", "custom": {"x": "\\udfff"}}',
    '{"client_id": "web", "custom": ' + "[" * 5000 + "]" * 5000 + "}",
    '{"client_id": "web", "client_id": "web"}',
    b'\xff\xfe{\x00}\x00',
])
def test_sessions_refuses_malformed_json_and_writes_nothing(app, client, web, raw):
    response = client.post("/realms/default/sessions", data=raw, content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"
    assert count(app, User) == 0


def test_a_stated_workspace_is_non_verified(client, web):
    response = client.post("/realms/default/sessions",
                           json={"client_id": "web", "audience": AUDIENCE, "workspace": "acme"})
    assert response.status_code == 201, response.get_json()
    claims = pyjwt.decode(response.get_json()["access_token"], options={"verify_signature": False})
    assert "workspace" not in claims and claims["unverified"]["workspace"] == "acme"


# --- /register ------------------------------------------------------------------------------


@pytest.fixture
def initial_token(app):
    make_backend(app)
    with app.app_context():
        return registration.create_initial_token(get_realm("default"), 600, "test")["initial_access_token"]


def register(client, token, raw, content_type="application/json"):
    return client.post("/realms/default/register", data=raw, content_type=content_type, headers=bearer(token))


@pytest.mark.parametrize("raw", [
    '{"client_name": "\\ud800", "grant_types": ["client_credentials"]}',
    '{"client_name": "deep", "extra": ' + "[" * 5000 + "]" * 5000 + "}",
])
def test_register_refuses_malformed_json_and_writes_nothing(app, client, initial_token, raw):
    response = register(client, initial_token, raw)
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"
    assert count(app, Client) == 0


def test_register_refuses_an_unparseable_redirect_uri(app, client, initial_token):
    response = client.post("/realms/default/register", headers=bearer(initial_token), json={
        "client_name": "x", "redirect_uris": ["https://[::1/cb"]})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_redirect_uri"
    assert count(app, Client) == 0


def small_rsa_jwks() -> dict:
    key = RSAKey.import_key(rsa.generate_private_key(65537, 1024))
    return {"keys": [{**key.as_dict(private=False), "kid": "small", "alg": "RS256"}]}


def test_rsa_keys_under_2048_bits_are_refused_by_registration(client, initial_token):
    response = client.post("/realms/default/register", headers=bearer(initial_token), json={
        "client_name": "x", "token_endpoint_auth_method": "private_key_jwt",
        "grant_types": ["client_credentials"], "jwks": small_rsa_jwks()})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_client_metadata"


def test_rsa_keys_under_2048_bits_are_refused_by_the_admin_api(app, client, runner):
    token = admin_token(runner, client)
    response = client.post("/admin/realms/default/clients", headers=bearer(token), json={
        "name": "x", "auth_method": "private_key_jwt", "jwks": small_rsa_jwks()})
    assert response.status_code == 400 and "2048" in response.get_json()["error_description"]


def test_rsa_keys_under_2048_bits_are_refused_by_the_cli(app, runner, tmp_path):
    jwks = tmp_path / "small.json"
    jwks.write_text(json.dumps(small_rsa_jwks()))
    line = cli_error(runner, "clients", "create", "--realm", "default", "--name", "x",
                     "--auth-method", "private_key_jwt", "--jwks-file", str(jwks))
    assert "2048" in line


# --- introspection and revocation -------------------------------------------------------------


@pytest.fixture
def issued(app, client, clock):
    make_backend(app)
    backend = AppBackend(app)
    response = client.post("/realms/default/token", data=backend.exchange_form(
        backend.assertion(sub="erin", now=clock()), audience=AUDIENCE))
    return backend, response.get_json()["access_token"]


def introspect(client, token, credentials):
    response = client.post("/realms/default/introspect", data={"token": token}, headers=basic_auth(*credentials))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_only_a_client_serving_the_audience_learns_anything(app, client, issued):
    _, token = issued
    with app.app_context():
        initial_token = registration.create_initial_token(get_realm("default"), 600, "test")["initial_access_token"]
    registered = client.post("/realms/default/register", headers=bearer(initial_token), json={
        "client_name": "self-registered", "grant_types": ["client_credentials"]}).get_json()
    assert introspect(client, token, (registered["client_id"], registered["client_secret"])) == {"active": False}
    with app.app_context():
        server = clients.create_client(get_realm("default"), {"client_id": "chat-api-server", "name": "server",
                                                              "serves": [AUDIENCE]}, "test")
    assert introspect(client, token, ("chat-api-server", server.client_secret))["sub"] == "erin"


@pytest.mark.parametrize("hint", ["refresh_token", "id_token", "no-such-type"])
def test_a_wrong_token_type_hint_is_ignored(app, client, issued, hint):
    backend, token = issued
    response = client.post("/realms/default/revoke", data={
        "token": token, "token_type_hint": hint, "client_id": backend.client_id, "client_secret": backend.secret})
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        server = clients.create_client(get_realm("default"), {"client_id": "chat-api-server", "name": "server",
                                                              "serves": [AUDIENCE]}, "test")
    response = client.post("/realms/default/introspect", data={"token": token, "token_type_hint": hint},
                           headers=basic_auth("chat-api-server", server.client_secret))
    assert response.get_json() == {"active": False}  # revoked, whatever the hint said
