"""The token exchange grant end to end on the backend-assertion path (RFC 8693 + RFC 7523 claims)."""

from __future__ import annotations

import jwt as pyjwt

from tests.factories import AppBackend, make_backend


def test_backend_assertion_exchange_issues_chat_jwt(app, client, clock):
    make_backend(app)
    backend = AppBackend(app)
    response = client.post("/realms/default/token", data=backend.exchange_form(
        backend.assertion(sub="alice", now=clock(), given_name="Alice", custom={"tier": "gold"}),
        audience="chat-api"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    assert body["scope"] == "chat:read"
    header = pyjwt.get_unverified_header(body["access_token"])
    claims = pyjwt.decode(body["access_token"], options={"verify_signature": False})
    assert header["typ"] == "at+jwt"
    assert claims["sub"] == "alice" and claims["identified"] is True and claims["verified"] is True
    assert claims["aud"] == "chat-api" and claims["idp"] == "app" and claims["custom"] == {"tier": "gold"}
    assert claims["given_name"] == "Alice"
