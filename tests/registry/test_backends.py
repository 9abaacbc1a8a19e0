"""Chat backends (authserver/registry/backends.py): a credential update is a JSON merge patch
over the stored credential, so giving one key never drops the others."""

from __future__ import annotations

import json

from authserver.plugin_testing.profiles import ec_pem, public_pem_of, rsa_pem
from tests.cli_helpers import admin_token, bearer, cli, cli_error
from tests.plugins.profiles.helpers import STREAM_SECRET

SETTINGS = {"issuer": "https://auth.example.com", "audience": "synapse", "server_name": "chat.example.com"}


def matrix_backend(runner) -> dict:
    return cli(runner, "backends", "create", "--realm", "default", "--audience", "synapse", "--profile", "matrix",
               "--credential", json.dumps(SETTINGS))["profile_info"]


def test_updating_only_the_matrix_private_key_keeps_issuer_audience_and_server_name(runner):
    before = matrix_backend(runner)
    key = ec_pem()
    after = cli(runner, "backends", "update", "--realm", "default", "synapse",
                "--credential", json.dumps({"private_key": key}))["profile_info"]
    assert after["public_key"] == public_pem_of(key) != before["public_key"]
    assert after["max_localpart"] == before["max_localpart"] == 255 - len("@:chat.example.com")
    assert '  issuer: "https://auth.example.com"' in after["jwt_config"]
    assert '    - "synapse"' in after["jwt_config"]


def test_null_removes_a_key_and_the_rest_is_kept(runner, client):
    before = matrix_backend(runner)
    headers = bearer(admin_token(runner, client))
    response = client.patch("/admin/realms/default/backends/synapse", headers=headers,
                            json={"credential": {"audience": None}})  # the admin API merges the same way
    assert response.status_code == 200, response.get_json()
    after = response.get_json()["profile_info"]
    assert "audiences:" not in after["jwt_config"] and "issuer:" in after["jwt_config"]
    assert after["public_key"] == before["public_key"]


def test_a_merge_that_leaves_the_credential_invalid_is_refused_naming_the_key(runner):
    matrix_backend(runner)
    line = cli_error(runner, "backends", "update", "--realm", "default", "synapse",
                     "--credential", json.dumps({"private_key": rsa_pem()}))  # the stored algorithm is ES256
    assert "credential.algorithm" in line
    assert "PRIVATE" not in line
    fixed = cli(runner, "backends", "update", "--realm", "default", "synapse",
                "--credential", json.dumps({"private_key": rsa_pem(), "algorithm": None}))
    assert fixed["profile_info"]["algorithm"] == "RS256"
    line = cli_error(runner, "backends", "update", "--realm", "default", "synapse",
                     "--credential", json.dumps({"private_key": None}))
    assert "credential.private_key" in line


def test_updating_the_stream_api_key_keeps_the_secret(runner):
    cli(runner, "backends", "create", "--realm", "default", "--audience", "stream-chat", "--profile", "stream",
        "--credential", json.dumps({"api_key": "oldkey01", "api_secret": STREAM_SECRET}))
    shown = cli(runner, "backends", "update", "--realm", "default", "stream-chat",
                "--credential", json.dumps({"api_key": "newkey02"}))
    assert shown["profile_info"] == {"api_key": "newkey02"}
