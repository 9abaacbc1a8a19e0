"""The example chat backend consumes authserver's webhooks, verified with ``standardwebhooks``:
``user.merged`` moves the discarded user's conversations, ``user.tokens_revoked`` refuses
the user's earlier tokens; a repeated delivery acts once; an unsigned one is refused."""

from __future__ import annotations

import json
import time

import pytest

from authserver.events import signing

from .test_chat_backend import bearer, load_example

SECRET = signing.new_secret()


@pytest.fixture
def client(verifier):
    return load_example().create_app(verifier, webhook_secrets=[SECRET]).test_client()


def deliver(client, event_id: str, type_: str, data: dict, secret: str = SECRET):
    body = json.dumps({"id": event_id, "type": type_, "realm": "default", "occurred_at": "2026-01-01T00:00:00Z",
                       "actor": "system", "data": data}).encode()
    headers = signing.headers([secret], event_id, int(time.time()), body)
    return client.post("/webhooks/authserver", data=body, headers={**headers, "Content-Type": "application/json"})


def test_a_merge_moves_the_visitors_conversations(issuer, client):
    visitor = issuer.sign(sub="anon-1", uid="anon-1")
    assert client.post("/v1/rooms/help/messages", json={"text": "hi"}, headers=bearer(visitor)).status_code == 201
    merged = {"surviving": {"_id": "u_1", "user_id": "alice"}, "discarded": {"_id": "anon-1", "user_id": None},
              "reason": "login", "ended_sessions": []}
    assert deliver(client, "evt_1", "user.merged", merged).status_code == 204
    assert deliver(client, "evt_1", "user.merged", merged).status_code == 204  # at least once: acts once
    messages = client.get("/v1/me/messages", headers=bearer(issuer.sign())).json["messages"]
    assert [m["text"] for m in messages] == ["hi"]


def test_tokens_revoked_drops_the_users_earlier_tokens(issuer, client, clock):
    before = issuer.sign()
    assert client.get("/v1/me", headers=bearer(before)).status_code == 200
    revoked = {"_id": "u_1", "user_id": "alice", "not_before": int(clock()), "ended_sessions": []}
    assert deliver(client, "evt_2", "user.tokens_revoked", revoked).status_code == 204
    assert client.get("/v1/me", headers=bearer(before)).status_code == 401
    clock.advance(1)
    assert client.get("/v1/me", headers=bearer(issuer.sign())).status_code == 200


def test_unsigned_or_forged_deliveries_are_refused(client):
    assert deliver(client, "evt_3", "user.tokens_revoked", {}, secret=signing.new_secret()).status_code == 400
    assert client.post("/webhooks/authserver", json={"id": "evt_4"}).status_code == 400
