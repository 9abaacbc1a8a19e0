"""RFC 7591 dynamic client registration and RFC 7592 client configuration."""

from __future__ import annotations

import pytest

from tests.cli_helpers import TOKEN_URL, basic, bearer, cli

REGISTER = "/realms/default/register"


@pytest.fixture
def initial_token(runner):
    cli(runner, "backends", "create", "--realm", "default", "--audience", "chat-api",
        "--scopes", "chat:read chat:write", "--default-scopes", "chat:read")
    created = cli(runner, "clients", "initial-token", "--realm", "default", "--ttl", "600")
    return created["initial_access_token"]


METADATA = {"client_name": "Support widget backend", "grant_types": ["client_credentials"],
            "scope": "chat:read", "audiences": ["chat-api"], "software_id": "ignored (RFC 7591 §2)"}


def register(client, token, metadata=None):
    return client.post(REGISTER, json=metadata if metadata is not None else METADATA,
                       headers=bearer(token) if token else {})


def assert_error(response, status: int, error: str) -> None:
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"] == error


def test_registration_issues_a_client_usable_at_once(client, initial_token, clock):
    response = register(client, initial_token)
    assert response.status_code == 201, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    info = response.get_json()
    assert info["client_name"] == "Support widget backend"
    assert info["token_endpoint_auth_method"] == "client_secret_basic"
    assert info["client_id_issued_at"] == int(clock()) and info["client_secret_expires_at"] == 0
    assert info["registration_client_uri"] == f"http://auth.test{REGISTER}/{info['client_id']}"
    assert info["registration_access_token"] and "software_id" not in info
    token = client.post(TOKEN_URL, headers=basic(info["client_id"], info["client_secret"]),
                        data={"grant_type": "client_credentials", "audience": "chat-api"})
    assert token.status_code == 200, token.get_json()


def test_discovery_names_the_registration_endpoint(client):
    metadata = client.get("/realms/default/.well-known/openid-configuration").get_json()
    assert metadata["registration_endpoint"] == f"http://auth.test{REGISTER}"
    assert "client_credentials" in metadata["grant_types_supported"]


def test_public_client_registration_has_no_secret(client, initial_token):
    info = register(client, initial_token, {"token_endpoint_auth_method": "none",
                                            "redirect_uris": ["http://127.0.0.1:8765/cb"]}).get_json()
    assert "client_secret" not in info and "client_secret_expires_at" not in info
    assert info["grant_types"] == ["urn:ietf:params:oauth:grant-type:token-exchange"]


def test_a_native_app_registers_for_the_code_flow(client, initial_token):
    info = register(client, initial_token, {
        "token_endpoint_auth_method": "none", "application_type": "native", "audiences": ["chat-api"],
        "grant_types": ["authorization_code", "refresh_token"], "redirect_uris": ["com.example.chat:/cb"],
        "post_logout_redirect_uris": ["com.example.chat:/bye"], "require_pushed_authorization_requests": True,
        "scope": "chat:read"}).get_json()
    assert info["application_type"] == "native" and info["redirect_uris"] == ["com.example.chat:/cb"]
    assert info["post_logout_redirect_uris"] == ["com.example.chat:/bye"]
    assert info["require_pushed_authorization_requests"] is True


def test_a_web_client_cannot_register_a_private_use_scheme(client, initial_token):
    response = register(client, initial_token, {"token_endpoint_auth_method": "none",
                                                "grant_types": ["authorization_code"],
                                                "redirect_uris": ["com.example.chat:/cb"]})
    assert_error(response, 400, "invalid_redirect_uri")


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_registration_without_a_valid_initial_token_is_refused(client, initial_token, token):
    response = register(client, token)
    assert_error(response, 401, "invalid_token")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_expired_initial_token_is_refused(client, initial_token, clock):
    clock.advance(601)
    assert_error(register(client, initial_token), 401, "invalid_token")


def test_initial_token_of_another_realm_is_refused(client, runner, initial_token):
    cli(runner, "realms", "create", "other")
    response = client.post("/realms/other/register", json=METADATA, headers=bearer(initial_token))
    assert_error(response, 401, "invalid_token")


@pytest.mark.parametrize("metadata, error", [
    ({"redirect_uris": ["http://app.example/cb"]}, "invalid_redirect_uri"),
    ({"redirect_uris": ["https://app.example/cb#frag"]}, "invalid_redirect_uri"),
    ({"redirect_uris": "https://app.example/cb"}, "invalid_redirect_uri"),
    ({"grant_types": ["password"]}, "invalid_client_metadata"),
    ({"audiences": ["unknown-api"]}, "invalid_client_metadata"),
    ({"audiences": ["chat-api"], "scope": "chat:admin"}, "invalid_client_metadata"),
    ({"scope": "admin"}, "invalid_client_metadata"),
    ({"scope": ["chat:read"]}, "invalid_client_metadata"),
    ({"token_endpoint_auth_method": "client_secret_jwt"}, "invalid_client_metadata"),
    ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
    ({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}, "token_endpoint_auth_method": "private_key_jwt"},
     "invalid_client_metadata"),
    ({"client_name": ""}, "invalid_client_metadata"),
])
def test_bad_metadata_is_refused(client, initial_token, metadata, error):
    response = register(client, initial_token, metadata)
    assert_error(response, 400, error)
    assert "error_description" in response.get_json()


def test_body_must_be_a_json_object(client, initial_token):
    response = client.post(REGISTER, data="client_name=x", headers=bearer(initial_token),
                           content_type="application/x-www-form-urlencoded")
    assert_error(response, 400, "invalid_request")


def test_loopback_http_redirect_is_allowed(client, initial_token):
    metadata = {"redirect_uris": ["http://localhost:3000/cb", "https://app.example/cb"]}
    assert register(client, initial_token, metadata).status_code == 201


@pytest.fixture
def registered(client, initial_token):
    info = register(client, initial_token).get_json()
    return info, f"{REGISTER}/{info['client_id']}", bearer(info["registration_access_token"])


def test_rfc7592_read(client, registered):
    info, uri, auth = registered
    response = client.get(uri, headers=auth)
    assert response.status_code == 200
    read = response.get_json()
    assert "client_secret" not in read  # shown once, at registration
    assert {k: v for k, v in read.items()} == {k: v for k, v in info.items() if k != "client_secret"}


def test_rfc7592_update_replaces_metadata(client, registered):
    info, uri, auth = registered
    update = {"client_id": info["client_id"], "client_name": "Renamed", "audiences": ["chat-api"],
              "scope": "chat:read chat:write", "grant_types": ["client_credentials"]}
    response = client.put(uri, json=update, headers=auth)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["client_name"] == "Renamed" and body["scope"] == "chat:read chat:write"
    token = client.post(TOKEN_URL, headers=basic(info["client_id"], info["client_secret"]),
                        data={"grant_type": "client_credentials", "audience": "chat-api",
                              "scope": "chat:write"})
    assert token.status_code == 200
    omitted = client.put(uri, json={"client_id": info["client_id"]}, headers=auth).get_json()
    assert omitted["audiences"] == [] and omitted["scope"] == ""


@pytest.mark.parametrize("update", [
    {"client_name": "no client_id"},
    {"client_id": "someone-else"},
    {"client_id": None, "token_endpoint_auth_method": "none"},
    {"client_id": None, "client_secret": "not-the-secret"},
    {"client_id": None, "redirect_uris": ["ftp://x"]},
])
def test_rfc7592_bad_update_is_refused(client, registered, update):
    info, uri, auth = registered
    if "client_id" in update and update["client_id"] is None:
        update = {**update, "client_id": info["client_id"]}
    response = client.put(uri, json=update, headers=auth)
    assert response.status_code == 400
    assert response.get_json()["error"] in ("invalid_client_metadata", "invalid_redirect_uri")


def test_rfc7592_delete(client, registered):
    info, uri, auth = registered
    assert client.delete(uri, headers=auth).status_code == 204
    assert_error(client.get(uri, headers=auth), 401, "invalid_token")
    token = client.post(TOKEN_URL, headers=basic(info["client_id"], info["client_secret"]),
                        data={"grant_type": "client_credentials", "audience": "chat-api"})
    assert_error(token, 401, "invalid_client")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_rfc7592_refuses_a_wrong_or_missing_registration_token(client, registered, initial_token, method):
    info, uri, _ = registered
    for headers in ({}, bearer("wrong"), bearer(initial_token), bearer(info["client_secret"])):
        response = client.open(uri, method=method, json={"client_id": info["client_id"]}, headers=headers)
        assert_error(response, 401, "invalid_token")


def test_rfc7592_token_of_one_client_does_not_open_another(client, registered, initial_token):
    _, _, auth = registered
    other = register(client, initial_token).get_json()
    assert_error(client.get(f"{REGISTER}/{other['client_id']}", headers=auth), 401, "invalid_token")


def test_admin_created_clients_have_no_registration_token(client, runner, initial_token):
    cli(runner, "clients", "create", "--realm", "default", "--name", "x", "--client-id", "admin-made")
    assert_error(client.get(f"{REGISTER}/admin-made", headers=bearer("anything")), 401, "invalid_token")
