"""``authserver clients|backends|audit|admin``: --json output, and bad input as one line on
stderr with exit status 2."""

from __future__ import annotations

import json

import pytest

from authserver.cli import main
from tests.cli_helpers import cli, cli_error


@pytest.fixture
def backend(runner):
    return cli(runner, "backends", "create", "--realm", "default", "--audience", "chat-api",
               "--scopes", "chat:read chat:write", "--default-scopes", "chat:read")


def test_clients_create_maps_options_to_fields(runner, backend, tmp_path):
    created = cli(runner, "clients", "create", "--realm", "default", "--name", "Web", "--public",
                  "--client-id", "web-app", "--grant-type", "token-exchange", "--audience", "chat-api",
                  "--scopes", "chat:read", "--redirect-uri", "https://app.example/cb",
                  "--allow-anonymous")
    assert created["client_id"] == "web-app" and created["auth_method"] == "none"
    assert created["grant_types"] == ["urn:ietf:params:oauth:grant-type:token-exchange"]
    assert created["allow_anonymous"] is True and created["allow_delegation"] is False
    assert "client_secret" not in created
    updated = cli(runner, "clients", "update", "--realm", "default", "web-app", "--no-allow-anonymous",
                  "--allow-delegation", "--name", "Web 2")
    assert (updated["allow_anonymous"], updated["allow_delegation"]) == (False, True)
    assert updated["name"] == "Web 2"
    assert updated["redirect_uris"] == ["https://app.example/cb"]  # untouched when not given


def test_table_output_and_secret_warning(runner, backend):
    result = runner.invoke(main, ["clients", "create", "--realm", "default", "--name", "svc",
                                  "--client-id", "svc"])
    assert result.exit_code == 0
    assert "client_secret: " in result.stdout and "not shown again" in result.stderr
    listed = runner.invoke(main, ["clients", "list", "--realm", "default"]).stdout.splitlines()
    assert listed[0].split()[:3] == ["CLIENT_ID", "NAME", "AUTH_METHOD"] and listed[1].startswith("svc")
    assert runner.invoke(main, ["backends", "list", "--realm", "default"]).stdout.startswith("AUDIENCE")


def test_backend_acl_template_from_file(runner, tmp_path):
    acl = tmp_path / "acl.json"
    acl.write_text(json.dumps([{"path": "/v1/users/{uid}/**", "methods": ["get"]}]))
    created = cli(runner, "backends", "create", "--realm", "default", "--audience", "https://chat.example/api",
                  "--scopes", "chat", "--acl-template", str(acl), "--ttl", "300")
    assert created["acl_template"] == [{"path": "/v1/users/{uid}/**", "methods": ["GET"]}]
    assert created["token_ttl"] == 300
    shown = cli(runner, "backends", "show", "--realm", "default", "https://chat.example/api")
    assert shown == created


def test_admin_bootstrap_prints_a_working_curl_command(runner, client):
    result = runner.invoke(main, ["admin", "bootstrap"])
    assert result.exit_code == 0, result.output
    assert "curl -s -u 'admin-cli:" in result.stdout
    assert "http://auth.test/realms/default/token" in result.stdout
    again = cli(runner, "admin", "bootstrap", "--realm", "default")
    assert again["client_secret"] not in result.stdout  # re-created with a new secret
    shown = cli(runner, "clients", "show", "--realm", "default", "admin-cli")
    assert shown["scopes"] == ["admin"] and shown["grant_types"] == ["client_credentials"]


def test_admin_bootstrap_curl_targets_the_development_server_without_issuer_base_url(make_app):
    from authserver.registry.realms import create_realm

    app = make_app(ISSUER_BASE_URL=None)
    with app.app_context():
        create_realm("default")
    runner = app.test_cli_runner()
    boot = cli(runner, "admin", "bootstrap")
    assert boot["token_endpoint"] == "http://127.0.0.1:5000/realms/default/token"  # `authserver run`
    assert boot["curl"].endswith(" -d scope=admin http://127.0.0.1:5000/realms/default/token")
    result = runner.invoke(main, ["admin", "bootstrap", "--url", "https://auth.example.com/"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].endswith(" https://auth.example.com/realms/default/token")


def test_audit_lists_changes_newest_first(runner, backend):
    events = cli(runner, "audit", "--realm", "default", "--limit", "5")
    assert [(e["actor"], e["action"], e["target_id"]) for e in events] == [
        ("cli", "backend.create", "chat-api"), ("system", "realm.create", "default")]


@pytest.fixture
def files(tmp_path):
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "private.json").write_text(json.dumps(
        {"keys": [{"kty": "oct", "k": "c2VjcmV0c2VjcmV0"}]}))
    (tmp_path / "acl.json").write_text(json.dumps([{"path": "no-slash"}]))
    return tmp_path


@pytest.mark.parametrize("args, message", [
    (("clients", "create", "--realm", "nope", "--name", "x"), "no realm named 'nope'"),
    (("clients", "create", "--name", "x"), "Missing option '--realm'"),
    (("clients", "create", "--realm", "default"), "Missing option '--name'"),
    (("clients", "create", "--realm", "default", "--name", "x", "--audience", "chat-api",
      "--scopes", "chat:delete"), "scopes: chat:delete"),
    (("clients", "create", "--realm", "default", "--name", "x", "--scopes", "bad\"scope"), "scope token"),
    (("clients", "create", "--realm", "default", "--name", "x", "--audience", "unknown-api"),
     "no chat backend registered for unknown-api"),
    (("clients", "create", "--realm", "default", "--name", "x", "--auth-method", "private_key_jwt",
      "--jwks-file", "{files}/bad.json"), "--jwks-file: {files}/bad.json is not valid JSON"),
    (("clients", "create", "--realm", "default", "--name", "x", "--auth-method", "private_key_jwt",
      "--jwks-file", "{files}/missing.json"), "--jwks-file: cannot read"),
    (("clients", "create", "--realm", "default", "--name", "x", "--auth-method", "private_key_jwt",
      "--jwks-file", "{files}/private.json"), "only public keys"),
    (("clients", "create", "--realm", "default", "--name", "x", "--auth-method", "private_key_jwt"),
     "private_key_jwt needs"),
    (("clients", "create", "--realm", "default", "--name", "x", "--public", "--auth-method",
      "client_secret_basic"), "--public and --auth-method"),
    (("clients", "create", "--realm", "default", "--name", "x", "--auth-method", "magic"), "auth_method"),
    (("clients", "create", "--realm", "default", "--name", "x", "--grant-type", "password"), "unsupported"),
    (("clients", "create", "--realm", "default", "--name", "x", "--redirect-uri", "http://app.example/cb"),
     "https"),
    (("clients", "create", "--realm", "default", "--name", "x", "--client-id", "a b"), "client_id"),
    (("clients", "show", "--realm", "default", "nope"), "no client 'nope'"),
    (("clients", "rotate-secret", "--realm", "default", "nope"), "no client 'nope'"),
    (("clients", "initial-token", "--realm", "default", "--ttl", "1"), "ttl"),
    (("backends", "create", "--realm", "default", "--audience", "chat-api", "--scopes", "x"),
     "already exists"),
    (("backends", "create", "--realm", "default", "--audience", "has space"), "audience"),
    (("backends", "create", "--realm", "default", "--audience", "a2", "--scopes", "a",
      "--default-scopes", "b"), "default_scopes"),
    (("backends", "create", "--realm", "default", "--audience", "a2", "--acl-template",
      "{files}/bad.json"), "--acl-template: {files}/bad.json is not valid JSON"),
    (("backends", "create", "--realm", "default", "--audience", "a2", "--acl-template",
      "{files}/acl.json"), "acl_template[0].path"),
    (("backends", "create", "--realm", "default", "--audience", "a2", "--profile", "nope"), "nope"),
    (("backends", "create", "--realm", "default", "--audience", "a2", "--ttl", "999999"), "token_ttl"),
    (("backends", "delete", "--realm", "default", "chat-api"), "still an audience"),
    (("audit", "--realm", "nope"), "no realm named 'nope'"),
    (("admin", "bootstrap", "--realm", "nope"), "no realm named 'nope'"),
])
def test_bad_input_is_one_line_exit_2(runner, backend, files, args, message):
    if args[:2] == ("backends", "delete"):
        cli(runner, "clients", "create", "--realm", "default", "--name", "x", "--audience", "chat-api")
    line = cli_error(runner, *(a.replace("{files}", str(files)) for a in args))
    assert message.replace("{files}", str(files)) in line


def test_a_client_that_serves_a_backend(runner):
    cli(runner, "backends", "create", "--realm", "default", "--audience", "chat-api", "--scopes", "chat:read")
    created = cli(runner, "clients", "create", "--realm", "default", "--name", "chat api server",
                  "--client-id", "chat-api-server", "--serves", "chat-api")
    assert created["serves"] == ["chat-api"]
    line = cli_error(runner, "clients", "update", "--realm", "default", "chat-api-server",
                     "--serves", "no-such-backend")
    assert line.startswith("Error: serves: no chat backend registered for no-such-backend"), line


def test_code_flow_settings_from_the_cli(runner, backend):
    created = cli(runner, "clients", "create", "--realm", "default", "--name", "Widget", "--public",
                  "--client-id", "widget", "--grant-type", "authorization_code", "--grant-type", "refresh_token",
                  "--audience", "chat-api", "--scopes", "chat:read", "--redirect-uri", "https://app.example/cb",
                  "--post-logout-redirect-uri", "https://app.example/bye", "--require-par",
                  "--refresh-token-ttl", "3600", "--refresh-token-absolute-ttl", "86400")
    assert created["grant_types"] == ["authorization_code", "refresh_token"]
    assert created["post_logout_redirect_uris"] == ["https://app.example/bye"]
    assert (created["require_par"], created["refresh_token_ttl"], created["refresh_token_absolute_ttl"]) == (
        True, 3600, 86400)
    updated = cli(runner, "clients", "update", "--realm", "default", "widget", "--no-require-par",
                  "--application-type", "native", "--redirect-uri", "com.example.widget:/cb")
    assert updated["require_par"] is False and updated["application_type"] == "native"
    assert updated["redirect_uris"] == ["com.example.widget:/cb"]


@pytest.mark.parametrize(("args", "message"), [
    (("--grant-type", "authorization_code"), "needs at least one redirect URI"),
    (("--grant-type", "refresh_token", "--redirect-uri", "https://app.example/cb"), "only with authorization_code"),
    (("--grant-type", "authorization_code", "--redirect-uri", "com.example.app:/cb"), "https"),
    (("--grant-type", "authorization_code", "--redirect-uri", "https://app.example/cb#x"), "fragment"),
    (("--grant-type", "authorization_code", "--redirect-uri", "https://app.example/cb",
      "--refresh-token-ttl", "9000", "--refresh-token-absolute-ttl", "3600"), "must not exceed"),
])
def test_code_flow_settings_are_checked(runner, backend, args, message):
    error = cli_error(runner, "clients", "create", "--realm", "default", "--name", "Bad", "--public",
                      "--audience", "chat-api", *args)
    assert message in error
