"""The admin API does what the CLI does: the same operations, driven through both, on two
realms, give the same results (the audit log differs only in who acted)."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import admin_token, bearer, cli

VOLATILE = {"client_secret", "initial_access_token", "id"}


def normalized(value):
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items() if k not in VOLATILE}
    return value


def comparable(events: list[dict]) -> list[dict]:
    """Audit events without who and which row (initial tokens are numbered per database)."""
    drop = {"actor", "at"}
    return [normalized({k: v for k, v in e.items() if k not in drop
                        and not (k == "target_id" and e["target_type"] == "initial_access_token")})
            for e in events]


class Api:
    def __init__(self, client, token: str, realm: str):
        self.client, self.headers, self.base = client, bearer(token), f"/admin/realms/{realm}"

    def __call__(self, method: str, path: str, body: dict | None = None, status: int = 200):
        response = self.client.open(self.base + path, method=method, json=body, headers=self.headers)
        assert response.status_code == status, response.get_json()
        return response.get_json() if response.data else None


@pytest.fixture
def both(app, runner, client, tmp_path):
    token = admin_token(runner, client)
    cli(runner, "realms", "create", "via-cli")
    api = Api(client, token, "via-api")
    assert client.post("/admin/realms", json={"name": "via-api"}, headers=bearer(token)).status_code == 201
    return (lambda *args: cli(runner, *args[:2], "--realm", "via-cli", *args[2:])), api


def test_cli_and_admin_api_agree(both, tmp_path):
    run, api = both
    acl = tmp_path / "acl.json"
    acl.write_text(json.dumps([{"path": "/v1/users/{user_id}/**", "methods": ["GET"]}]))

    both_grants = ["client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"]
    steps = [
        (run("backends", "create", "--audience", "chat-api", "--scopes", "chat:read chat:write",
             "--default-scopes", "chat:read", "--acl-template", str(acl), "--ttl", "600"),
         api("POST", "/backends", {"audience": "chat-api", "scopes": "chat:read chat:write",
                                   "default_scopes": "chat:read", "token_ttl": 600,
                                   "acl_template": [{"path": "/v1/users/{user_id}/**", "methods": ["GET"]}]},
             201)),
        (run("backends", "update", "chat-api", "--profile", "native", "--default-scopes", "chat:write"),
         api("PATCH", "/backends/chat-api", {"profile": "native", "default_scopes": "chat:write"})),
        (run("clients", "create", "--name", "Web", "--client-id", "web", "--audience", "chat-api",
             "--scopes", "chat:read", "--grant-type", "client_credentials", "--grant-type", "token-exchange"),
         api("POST", "/clients", {"name": "Web", "client_id": "web", "audiences": ["chat-api"],
                                  "scopes": "chat:read", "grant_types": both_grants},
             201)),
        (run("clients", "update", "web", "--name", "Web app", "--scopes", "chat:read chat:write",
             "--allow-delegation"),
         api("PATCH", "/clients/web", {"name": "Web app", "scopes": "chat:read chat:write",
                                       "allow_delegation": True})),
        (run("clients", "rotate-secret", "web", "--grace", "60"),
         api("POST", "/clients/web/rotate-secret", {"grace_seconds": 60})),
        (run("clients", "disable", "web"), api("POST", "/clients/web/disable")),
        (run("clients", "enable", "web"), api("POST", "/clients/web/enable")),
        (run("clients", "show", "web"), api("GET", "/clients/web")),
        (run("clients", "list"), api("GET", "/clients")),
        (run("backends", "list"), api("GET", "/backends")),
        (run("backends", "show", "chat-api"), api("GET", "/backends/chat-api")),
        (run("clients", "initial-token", "--ttl", "600"),
         api("POST", "/initial-tokens", {"ttl": 600}, 201)),
    ]
    for via_cli, via_api in steps:
        assert normalized(via_cli) == normalized(via_api)
    created_cli, created_api = steps[2]
    assert created_cli["client_secret"] and created_api["client_secret"]
    assert [c["client_id"] for c in steps[8][0]] == ["web"]

    run("clients", "delete", "web")
    api("DELETE", "/clients/web", status=204)
    run("backends", "delete", "chat-api")
    api("DELETE", "/backends/chat-api", status=204)
    assert run("clients", "list") == api("GET", "/clients") == []

    audit_cli, audit_api = run("audit"), api("GET", "/audit")
    created_cli, created_api = audit_cli.pop(), audit_api.pop()  # the oldest: each realm's creation
    assert (created_cli["action"], created_cli["target_id"], created_cli["actor"]) == (
        "realm.create", "via-cli", "cli")
    assert (created_api["action"], created_api["target_id"], created_api["actor"]) == (
        "realm.create", "via-api", "client:admin-cli")
    assert {e["actor"] for e in audit_cli} == {"cli"}
    assert {e["actor"] for e in audit_api} == {"client:admin-cli"}
    assert comparable(audit_cli) == comparable(audit_api)
    assert [e["action"] for e in reversed(audit_cli)] == [
        "backend.create", "backend.update", "client.create", "client.update", "client.rotate_secret",
        "client.update", "client.update", "initial_token.create", "client.delete", "backend.delete"]


def test_keys_and_errors_agree(both):
    run, api = both
    assert [k["state"] for k in run("keys", "list")] == [k["state"] for k in api("GET", "/keys")]
    assert run("keys", "rotate", "--alg", "EdDSA")["state"] == api("POST", "/keys/rotate", {"alg": "EdDSA"},
                                                                     201)["state"]
    assert api("POST", "/keys/rotate", {}, 409)["error"] == "conflict"
    rotated_cli, rotated_api = run("audit")[0], api("GET", "/audit")[0]
    assert (rotated_cli["action"], rotated_cli["actor"]) == ("key.rotate", "cli")
    assert (rotated_api["action"], rotated_api["actor"]) == ("key.rotate", "client:admin-cli")
    assert comparable([rotated_cli])[0]["after"].keys() == comparable([rotated_api])[0]["after"].keys()
    assert rotated_cli["target_id"] == rotated_cli["after"]["kid"] and rotated_cli["after"]["state"] == "next"
    assert api("POST", "/clients", {"name": "x", "audiences": ["nope"]}, 400)["error"] == "invalid_request"
    assert api("GET", "/clients/nope", status=404)["error"] == "not_found"
    assert api("GET", "/audit?limit=0", status=400)["error"] == "invalid_request"


def test_realm_user_and_key_operations_agree(both, app, runner, client):
    """Realm show/update, user deletion, rotation cancel and retire-now, through both."""
    from authserver.extensions import db
    from authserver.models import User
    from authserver.registry.realms import get_realm

    run, api = both
    with app.app_context():
        for name in ("via-cli", "via-api"):
            db.session.add(User(realm_id=get_realm(name).id, uid=f"uid-{name}", user_id="alice", created_at=1))
        db.session.commit()

    def plain(*args):
        return cli(runner, *args)

    def realm_api(method, name, body=None):
        return client.open(f"/admin/realms/{name}", method=method, json=body, headers=api.headers)

    drop = {"name", "created_at", "updated_at", "kid", "activates_at", "retired_at", "remove_after"}

    def same(a, b):
        def clean(v):
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items() if k not in drop and k != "target_id"}
            return v
        assert clean(a) == clean(b)

    same(plain("realms", "update", "via-cli", "--display-name", "Chat"),
         realm_api("PATCH", "via-api", {"display_name": "Chat"}).get_json())
    same(plain("realms", "show", "via-cli"), realm_api("GET", "via-api").get_json())
    assert run("users", "delete", "alice") == {"deleted": "alice"}
    api("DELETE", "/users/alice", status=204)
    assert run("users", "list") == api("GET", "/users") == []
    run("keys", "rotate")
    api("POST", "/keys/rotate", {}, 201)
    same(run("keys", "cancel-rotation"), api("POST", "/keys/cancel-rotation"))
    [active_cli], [active_api] = run("keys", "list"), api("GET", "/keys")
    same(run("keys", "retire-now", active_cli["kid"]), api("POST", f"/keys/{active_api['kid']}/retire-now"))
    same(comparable(plain("audit", "--realm", "via-cli", "--action", "key.rotate", "--limit", "1"))[0],
         comparable(api("GET", "/audit?action=key.rotate&limit=1"))[0])
    assert [k["state"] for k in run("keys", "list", "--state", "active")] == [
        k["state"] for k in api("GET", "/keys?state=active")] == ["active"]
    actions_cli = [e["action"] for e in run("audit")][:5]
    assert actions_cli == [e["action"] for e in api("GET", "/audit")][:5] == [
        "key.retire_now", "key.cancel_rotation", "key.rotate", "user.delete", "realm.update"]
