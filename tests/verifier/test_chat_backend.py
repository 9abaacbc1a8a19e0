"""The example chat backend (examples/chat_backend/app.py) behind Flask's test client."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from authserver_verifier import Verifier

from .conftest import sign_raw

APP_PATH = Path(__file__).resolve().parents[2] / "examples" / "chat_backend" / "app.py"


def load_example():
    spec = importlib.util.spec_from_file_location("example_chat_backend", APP_PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def client(verifier):
    return load_example().create_app(verifier).test_client()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_me_with_valid_token(issuer, client):
    response = client.get("/v1/me", headers=bearer(issuer.sign(name="Alice")))
    assert response.status_code == 200
    assert response.json == {"sub": "alice", "uid": "u_1", "name": "Alice"}


def test_post_message(issuer, client):
    token = issuer.sign(acl=[{"path": "/v1/rooms/*/messages", "methods": ["POST"]}])
    response = client.post("/v1/rooms/42/messages", json={"text": "hi"}, headers=bearer(token))
    assert response.status_code == 201
    assert response.json == {"room": "42", "from": "alice", "text": "hi"}


def test_missing_token(client):
    response = client.get("/v1/me")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("claims", [{"aud": "other"}, {"exp": 1}])
def test_bad_token(issuer, client, claims):
    response = client.get("/v1/me", headers=bearer(issuer.sign(**claims)))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert response.json == {"error": "invalid_token"}


def test_garbage_token(client):
    response = client.get("/v1/me", headers=bearer("not-a-jwt"))
    assert response.status_code == 401 and "invalid_token" in response.headers["WWW-Authenticate"]


def test_missing_scope(issuer, client):
    response = client.post("/v1/rooms/42/messages", json={"text": "hi"}, headers=bearer(issuer.sign(scope="chat:read")))
    assert response.status_code == 403
    assert response.headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="chat:write"'


def test_acl_denies_other_room(issuer, client):
    token = issuer.sign(acl=[{"path": "/v1/rooms/7/messages", "methods": ["POST"]}])
    response = client.post("/v1/rooms/42/messages", json={"text": "hi"}, headers=bearer(token))
    assert response.status_code == 403 and response.json == {"error": "access_denied"}


def test_issuer_unreachable(issuer, client):
    issuer.stop()
    response = client.get("/v1/me", headers=bearer(issuer.sign()))
    assert response.status_code == 503


def test_configured_from_environment(issuer, monkeypatch):
    monkeypatch.setenv("AUTHSERVER_ISSUER", issuer.issuer)
    monkeypatch.setenv("CHAT_AUDIENCE", "chat-api")
    app = load_example().create_app()
    verifier = app.extensions["verifier"]
    assert isinstance(verifier, Verifier)
    assert (verifier.issuer, verifier.audience) == (issuer.issuer, "chat-api")
    assert app.test_client().get("/v1/me", headers=bearer(issuer.sign())).status_code == 200


def test_token_without_acl_is_not_path_restricted(issuer, client):
    response = client.post("/v1/rooms/42/messages", json={"text": "hi"}, headers=bearer(issuer.sign()))
    assert response.status_code == 201


@pytest.mark.parametrize("acl", [[], None, {"path": "/v1/**"}, [{"path": "/v1/rooms/%2A/messages"}]])
def test_empty_malformed_or_literal_acl_denies(issuer, client, acl):
    token = sign_raw(
        {"typ": "at+jwt", "alg": "ES256", "kid": issuer.key.kid}, {**issuer.claims(), "acl": acl}, issuer.key
    )
    response = client.post("/v1/rooms/42/messages", json={"text": "hi"}, headers=bearer(token))
    assert response.status_code == 403 and response.json == {"error": "access_denied"}


def test_acl_with_a_filled_star_allows_that_literal_room(issuer, client):
    token = issuer.sign(acl=[{"path": "/v1/rooms/%2A/messages", "methods": ["POST"]}])
    response = client.post("/v1/rooms/*/messages", json={"text": "hi"}, headers=bearer(token))
    assert response.status_code == 201 and response.json["room"] == "*"
