"""The admin API's bearer authentication (RFC 6750): missing, invalid, expired, wrong-realm,
non-admin and disabled-client tokens are refused; the ADMIN_REALM administers every realm."""

from __future__ import annotations

import pytest

from authserver.registry.realms import create_realm
from tests.cli_helpers import admin_token, basic, bearer, cli


def realm_admin_token(runner, client, realm: str) -> str:
    cli(runner, "realms", "create", realm)
    return admin_token(runner, client, realm)


def assert_invalid_token(response) -> None:
    assert response.status_code == 401, response.get_json()
    assert response.get_json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def admin_rules(app):
    return [r for r in app.url_map.iter_rules()
            if r.rule.startswith("/admin") and r.rule != "/admin/openapi.json"]


def test_every_admin_route_refuses_a_missing_token(app, client):
    for rule in admin_rules(app):
        path = rule.rule.replace("<realm>", "default").replace("<client_id>", "x") \
            .replace("<path:audience>", "y")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert_invalid_token(client.open(path, method=method, json={}))


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer not-a-jwt", "Basic abc", "Bearer a b"])
def test_malformed_tokens_are_refused(client, header):
    assert_invalid_token(client.get("/admin/realms/default/clients", headers={"Authorization": header}))


def test_admin_token_works_and_expires(runner, client, clock):
    token = admin_token(runner, client)
    assert client.get("/admin/realms/default/clients", headers=bearer(token)).status_code == 200
    clock.advance(900 + 61)  # DEFAULT_TOKEN_LIFETIME + clock skew
    assert_invalid_token(client.get("/admin/realms/default/clients", headers=bearer(token)))


def test_non_admin_token_is_403_insufficient_scope(runner, client):
    cli(runner, "backends", "create", "--realm", "default", "--audience", "chat-api", "--scopes", "chat:read")
    created = cli(runner, "clients", "create", "--realm", "default", "--name", "svc",
                  "--audience", "chat-api", "--scopes", "chat:read")
    auth = basic(created["client_id"], created["client_secret"])
    own = client.post("/realms/default/token", headers=auth,
                      data={"grant_type": "client_credentials", "scope": "chat:read"}).get_json()
    response = client.get("/admin/realms/default/clients", headers=bearer(own["access_token"]))
    assert response.status_code == 403 and response.get_json()["error"] == "insufficient_scope"
    chat = client.post("/realms/default/token", headers=auth,
                       data={"grant_type": "client_credentials", "audience": "chat-api",
                             "scope": "chat:read"}).get_json()
    assert_invalid_token(client.get("/admin/realms/default/clients", headers=bearer(chat["access_token"])))


def test_token_of_a_disabled_or_deleted_client_is_refused(runner, client):
    token = admin_token(runner, client)
    cli(runner, "clients", "disable", "--realm", "default", "admin-cli")
    assert_invalid_token(client.get("/admin/realms/default/clients", headers=bearer(token)))
    cli(runner, "clients", "enable", "--realm", "default", "admin-cli")
    assert client.get("/admin/realms/default/clients", headers=bearer(token)).status_code == 200
    cli(runner, "clients", "delete", "--realm", "default", "admin-cli")
    assert_invalid_token(client.get("/admin/realms/default/clients", headers=bearer(token)))


def test_realm_admin_token_administers_its_own_realm_only(runner, client):
    token = realm_admin_token(runner, client, "tenant")
    assert client.get("/admin/realms/tenant/clients", headers=bearer(token)).status_code == 200
    assert_invalid_token(client.get("/admin/realms/default/clients", headers=bearer(token)))
    assert_invalid_token(client.get("/admin/realms", headers=bearer(token)))
    assert_invalid_token(client.post("/admin/realms", headers=bearer(token), json={"name": "x"}))


def test_admin_realm_token_administers_every_realm(app, runner, client):
    token = admin_token(runner, client)
    with app.app_context():
        create_realm("tenant")
    assert client.get("/admin/realms/tenant/clients", headers=bearer(token)).status_code == 200
    response = client.post("/admin/realms", headers=bearer(token), json={"name": "another"})
    assert response.status_code == 201 and response.get_json()["name"] == "another"
    missing = client.get("/admin/realms/nope/clients", headers=bearer(token))
    assert missing.status_code == 404 and missing.get_json()["error"] == "not_found"


def test_admin_realm_is_configurable(make_app):
    app = make_app(ADMIN_REALM="ops")
    with app.app_context():
        create_realm("default")
        create_realm("ops")
    runner, client = app.test_cli_runner(), app.test_client()
    default_token = admin_token(runner, client, "default")
    assert_invalid_token(client.get("/admin/realms", headers=bearer(default_token)))
    ops_token = admin_token(runner, client, "ops")
    assert client.get("/admin/realms", headers=bearer(ops_token)).status_code == 200


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"'])
def test_bodies_that_are_not_json_objects_are_invalid_request(runner, client, body):
    token = admin_token(runner, client)
    response = client.post("/admin/realms/default/backends", data=body, headers=bearer(token),
                           content_type="application/json")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"
