"""Admin API for IdP connections, users, usage and revocation: the same service functions
as ``authserver idps|users|usage|clients revoke-tokens``."""

from __future__ import annotations

from tests.cli_helpers import admin_token, bearer, cli
from tests.factories import AppBackend, make_backend

BASE = "/admin/realms/default"


def test_idps_users_usage_and_revocation(app, runner, client, clock):
    headers = bearer(admin_token(runner, client))
    make_backend(app)
    backend = AppBackend(app)
    created = client.post(f"{BASE}/idps", headers=headers, json={
        "name": "corp", "type": "oidc", "config": {"issuer": "https://idp.example", "client_ids": ["web"]}})
    assert created.status_code == 201, created.get_json()
    assert client.get(f"{BASE}/idps/corp", headers=headers).get_json()["config"]["issuer"] == "https://idp.example"
    bad = client.post(f"{BASE}/idps", headers=headers, json={"name": "x", "type": "oidc", "config": {}})
    assert bad.status_code == 400 and "config.issuer" in bad.get_json()["error_description"]
    assert client.patch(f"{BASE}/idps/corp", headers=headers, json={"disabled": True}).get_json()["disabled"]
    assert client.delete(f"{BASE}/idps/corp", headers=headers).status_code == 204

    exchanged = client.post("/realms/default/token", data=backend.exchange_form(
        backend.assertion(sub="ivy", now=clock()), audience="chat-api"))
    assert exchanged.status_code == 200, exchanged.get_json()
    users = client.get(f"{BASE}/users", headers=headers).get_json()
    assert [u["user_id"] for u in users] == ["ivy"]
    assert client.get(f"{BASE}/usage", headers=headers).get_json()["active_users"] == 1
    assert client.get(f"{BASE}/usage?month=2026-13x", headers=headers).status_code == 400

    revoked = client.post(f"{BASE}/users/ivy/revoke-tokens", headers=headers)
    assert revoked.status_code == 200 and revoked.get_json()["user_id"] == "ivy"
    disabled = client.post(f"{BASE}/users/ivy/disable", headers=headers).get_json()
    assert disabled["state"] == "disabled"
    assert client.post(f"{BASE}/clients/app-backend/revoke-tokens", headers=headers).status_code == 200
    assert client.get(f"{BASE}/users/nobody", headers=headers).status_code == 404

    actions = {event["action"] for event in cli(runner, "audit", "--realm", "default")}
    assert {"user.revoke_tokens", "client.revoke_tokens", "idp.delete", "user.disable"} <= actions
