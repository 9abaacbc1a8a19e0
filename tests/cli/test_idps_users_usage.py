"""``authserver idps``, ``users``, ``usage`` and ``plugins``: output, ``--json``, and one-line
errors with exit status 2."""

from __future__ import annotations

import csv
import io
import json

import pytest

from authserver.cli import main
from tests.cli_helpers import admin_token, bearer
from tests.factories import AppBackend, make_backend, make_client

ISSUER = "https://login.example.test"


def invoke(runner, *args):
    return runner.invoke(main, list(args))


def ok_json(runner, *args):
    result = invoke(runner, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def one_line_error(runner, *args) -> str:
    result = invoke(runner, *args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and not result.stdout.strip() and "Traceback" not in result.output, result.output
    return lines[0]


def create_oidc(runner, name="corp", *extra):
    return ok_json(runner, "idps", "create", "--realm", "default", "--name", name, "--type", "oidc",
                   "--issuer", ISSUER, "--client-id", "chat-web", *extra)


# --- idps -------------------------------------------------------------------------------


def test_idps_create_oidc(runner):
    idp = create_oidc(runner, "corp", "--client-id", "chat-ios", "--trust", "unverified",
                      "--user-id-claim", "email", "--userinfo")
    assert idp["name"] == "corp" and idp["type"] == "oidc" and idp["trust"] == "unverified"
    assert idp["user_id_claim"] == "email" and idp["provisioning"] == "create"
    assert idp["config"]["issuer"] == ISSUER and idp["config"]["client_ids"] == ["chat-web", "chat-ios"]
    assert idp["config"]["userinfo"] is True and idp["disabled"] is False


def test_idps_update_sets_the_upstream_client_for_the_browser_login(app, runner, tmp_path):
    create_oidc(runner)
    result = runner.invoke(main, ["idps", "update", "--realm", "default", "corp", "--issuer", ISSUER,
                                  "--client-id", "chat-web", "--client-id", "authserver",
                                  "--upstream-client-id", "authserver", "--upstream-auth-method",
                                  "client_secret_basic", "--upstream-secret-file", "-", "--json"],
                           input="s3cret-from-stdin\n")
    assert result.exit_code == 0, result.output
    idp = json.loads(result.stdout)
    assert (idp["upstream_client_id"], idp["upstream_auth_method"], idp["upstream_secret_set"]) == (
        "authserver", "client_secret_basic", True)
    assert "s3cret-from-stdin" not in result.output
    cleared = ok_json(runner, "idps", "update", "--realm", "default", "corp", "--clear-upstream-secret")
    assert cleared["upstream_secret_set"] is False and cleared["upstream_client_id"] == "authserver"


@pytest.mark.parametrize(("args", "message"), [
    (("--upstream-client-id", "not-listed"), "also list it among the connection's client ids"),
    (("--upstream-auth-method", "private_key_jwt", "--upstream-secret-file", "{secret}"), "private JWK"),
    (("--upstream-scope", "email"), "must include openid"),
    (("--upstream-secret-file", "/nonexistent/file"), "cannot read"),
])
def test_bad_upstream_settings_are_one_line(runner, tmp_path, args, message):
    create_oidc(runner)
    secret = tmp_path / "secret.txt"
    secret.write_text("not a jwk")
    args = tuple(a.replace("{secret}", str(secret)) for a in args)
    assert message in one_line_error(runner, "idps", "update", "--realm", "default", "corp", *args)


def test_a_connector_without_browser_login_refuses_upstream_settings(app, runner):
    make_backend(app)
    AppBackend(app)
    assert "cannot run a browser login" in one_line_error(runner, "idps", "update", "--realm", "default", "app",
                                                           "--upstream-client-id", "x")


def test_idps_create_default_user_id_rule(runner):
    assert create_oidc(runner)["user_id_claim"] == "{idp}:{sub}"


def test_idps_create_backend_assertion_with_shared_secret(app, runner):
    make_client(app, client_id="app-backend", auth_method="client_secret_post")
    idp = ok_json(runner, "idps", "create", "--realm", "default", "--name", "app", "--type",
                  "backend_assertion", "--client", "app-backend", "--shared-secret")
    assert idp["client_id"] == "app-backend" and idp["user_id_claim"] == "{sub}"
    assert len(idp["shared_secret"]) >= 32 and idp["shared_secret_set"] is True
    shown = ok_json(runner, "idps", "show", "--realm", "default", "app")
    assert "shared_secret" not in shown and shown["shared_secret_set"] is True


def test_idps_list_table_and_json(runner):
    create_oidc(runner, "corp")
    create_oidc(runner, "alpha")
    assert [i["name"] for i in ok_json(runner, "idps", "list", "--realm", "default")] == ["alpha", "corp"]
    lines = invoke(runner, "idps", "list", "--realm", "default").output.splitlines()
    assert lines[0].split() == ["NAME", "TYPE", "TRUST", "PROVISIONING", "USER_ID_CLAIM", "DISABLED"]
    assert lines[1].split()[:2] == ["alpha", "oidc"]


def test_idps_show_text(runner):
    create_oidc(runner)
    output = invoke(runner, "idps", "show", "--realm", "default", "corp").output
    assert "name: corp" in output and "type: oidc" in output


def test_idps_update_merges_config(runner):
    create_oidc(runner)
    idp = ok_json(runner, "idps", "update", "--realm", "default", "corp", "--userinfo",
                  "--provisioning", "existing_only")
    assert idp["config"]["userinfo"] is True and idp["config"]["issuer"] == ISSUER
    assert idp["provisioning"] == "existing_only"


def test_idps_update_without_changes_keeps_config(runner):
    create_oidc(runner)
    idp = ok_json(runner, "idps", "update", "--realm", "default", "corp", "--trust", "unverified")
    assert idp["trust"] == "unverified" and idp["config"]["issuer"] == ISSUER


def test_idps_disable_enable_delete(runner):
    create_oidc(runner)
    assert ok_json(runner, "idps", "disable", "--realm", "default", "corp")["disabled"] is True
    assert ok_json(runner, "idps", "enable", "--realm", "default", "corp")["disabled"] is False
    result = invoke(runner, "idps", "delete", "--realm", "default", "corp")
    assert result.exit_code == 0 and "deleted" in result.output
    assert ok_json(runner, "idps", "list", "--realm", "default") == []


@pytest.mark.parametrize(("args", "message"), [
    (("--type", "saml"), "saml"),
    (("--type", "oidc", "--issuer", "http://login.example.test", "--client-id", "x"), "issuer"),
    (("--type", "oidc", "--issuer", "not a url", "--client-id", "x"), "issuer"),
    (("--type", "oidc", "--issuer", ISSUER), "client_ids"),
    (("--type", "backend_assertion", "--client", "nobody"), "nobody"),
    (("--type", "backend_assertion"), "client_id"),
    (("--type", "oidc", "--issuer", ISSUER, "--client-id", "x", "--config", "{not json"), "--config"),
    (("--type", "oidc", "--issuer", ISSUER, "--client-id", "x", "--config", "[1]"), "--config"),
    (("--type", "oidc", "--issuer", ISSUER, "--client-id", "x", "--config", '{"typo": 1}'), "typo"),
    (("--type", "oidc", "--issuer", ISSUER, "--client-id", "x", "--shared-secret"), "shared_secret"),
    (("--type", "oidc", "--issuer", ISSUER, "--client-id", "x", "--trust", "unverified",
      "--provisioning", "link_verified_email"), "link_verified_email"),
])
def test_idps_create_bad_input_is_one_line(runner, args, message):
    line = one_line_error(runner, "idps", "create", "--realm", "default", "--name", "bad", *args)
    assert message in line


def test_idps_bad_name_duplicate_unknown(runner):
    create_oidc(runner)
    assert "name" in one_line_error(runner, "idps", "create", "--realm", "default", "--name", "Bad Name",
                                    "--type", "oidc", "--issuer", ISSUER, "--client-id", "x")
    assert "already exists" in one_line_error(runner, "idps", "create", "--realm", "default", "--name",
                                              "corp", "--type", "oidc", "--issuer", ISSUER,
                                              "--client-id", "x")
    assert "nope" in one_line_error(runner, "idps", "show", "--realm", "default", "nope")
    assert "nope" in one_line_error(runner, "idps", "delete", "--realm", "default", "nope")
    assert "nowhere" in one_line_error(runner, "idps", "list", "--realm", "nowhere")


# --- users ------------------------------------------------------------------------------


@pytest.fixture
def alice(app, clock):
    make_backend(app)
    backend = AppBackend(app)
    response = app.test_client().post("/realms/default/token", data=backend.exchange_form(
        backend.assertion("alice", now=clock(), given_name="Alice"), audience="chat-api"))
    assert response.status_code == 200, response.get_json()
    return backend


def test_users_list_and_show(runner, alice):
    listed = ok_json(runner, "users", "list", "--realm", "default")
    assert [(u["user_id"], u["given_name"], u["state"]) for u in listed] == [("alice", "Alice", "active")]
    uid = listed[0]["_id"]
    assert ok_json(runner, "users", "show", "--realm", "default", "alice")["_id"] == uid
    assert ok_json(runner, "users", "show", "--realm", "default", uid)["user_id"] == "alice"
    table = invoke(runner, "users", "list", "--realm", "default").output.splitlines()
    assert table[0].split()[:3] == ["_ID", "USER_ID", "STATE"] and "alice" in table[1]


def test_users_disable_blocks_tokens_and_enable_restores(app, runner, alice, clock):
    assert ok_json(runner, "users", "disable", "--realm", "default", "alice")["state"] == "disabled"
    client = app.test_client()
    form = alice.exchange_form(alice.assertion("alice", now=clock()), audience="chat-api")
    assert client.post("/realms/default/token", data=form).get_json()["error"] == "invalid_grant"
    assert ok_json(runner, "users", "enable", "--realm", "default", "alice")["state"] == "active"
    form = alice.exchange_form(alice.assertion("alice", now=clock()), audience="chat-api")
    assert client.post("/realms/default/token", data=form).status_code == 200


def test_users_unknown_is_one_line(runner):
    assert "nobody" in one_line_error(runner, "users", "show", "--realm", "default", "nobody")
    assert "nobody" in one_line_error(runner, "users", "disable", "--realm", "default", "nobody")


# --- usage ------------------------------------------------------------------------------


def test_usage_formats(runner, alice):
    report = json.loads(invoke(runner, "usage", "--realm", "default", "--format", "json").stdout)
    assert report["month"] == "2027-01" and report["active_users"] == 1
    table = invoke(runner, "usage", "--realm", "default").output.splitlines()
    assert table[0] == "default 2027-01: 1 active users (1 identified, 0 anonymous)"
    assert table[1].split() == ["CLIENT_ID", "IDP", "ANONYMOUS", "USERS"]
    assert table[2].split() == ["app-backend", "app", "false", "1"]
    rows = list(csv.reader(io.StringIO(invoke(runner, "usage", "--realm", "default", "--format", "csv").stdout)))
    assert rows == [["month", "client_id", "idp", "anonymous", "users"],
                    ["2027-01", "app-backend", "app", "false", "1"]]


def test_usage_json_is_format_json(runner, alice):
    report = ok_json(runner, "usage", "--realm", "default")
    assert report == json.loads(invoke(runner, "usage", "--realm", "default", "--format", "json").stdout)
    assert report == ok_json(runner, "usage", "--realm", "default", "--format", "json")
    assert "choose one" in one_line_error(runner, "usage", "--realm", "default", "--format", "csv", "--json")


def test_usage_of_another_month_is_empty(runner, alice):
    report = json.loads(invoke(runner, "usage", "--realm", "default", "--month", "2026-12",
                               "--format", "json").stdout)
    assert report["active_users"] == 0 and report["by_client_and_idp"] == []


@pytest.mark.parametrize("month", ["2027-1", "january", "2027-13", "2027-00"])
def test_usage_bad_month_is_one_line(runner, month):
    assert "month" in one_line_error(runner, "usage", "--realm", "default", "--month", month)


def test_usage_bad_format_is_one_line(runner):
    assert "format" in one_line_error(runner, "usage", "--realm", "default", "--format", "xml")


# --- plugins ----------------------------------------------------------------------------


def test_plugins_list(runner):
    rows = ok_json(runner, "plugins", "list")
    names = {(r["kind"], r["name"]) for r in rows}
    assert {("connector", "oidc"), ("connector", "oauth2_userinfo"), ("connector", "backend_assertion"),
            ("token_profile", "native")} <= names
    assert all(r["target"] and r["distribution"] for r in rows)
    table = invoke(runner, "plugins", "list").output.splitlines()
    assert table[0].split() == ["KIND", "NAME", "TARGET", "DISTRIBUTION"]


def test_idps_test_exits_2_when_the_upstream_is_down(runner, client):
    """Nothing listens on the issuer's port: the finding says so, the CLI exits 2, the admin
    API answers 200 with the failed finding (the test itself worked)."""
    dead = "http://127.0.0.1:9"  # discard port, nothing listening
    ok_json(runner, "idps", "create", "--realm", "default", "--name", "gone", "--type", "oidc",
            "--issuer", dead, "--client-id", "web")
    result = invoke(runner, "idps", "test", "--realm", "default", "gone", "--json")
    assert result.exit_code == 2, result.output
    findings = json.loads(result.stdout)
    assert [(f["what"], f["ok"]) for f in findings] == [("discovery", False)]
    assert findings[0]["detail"].startswith(f"{dead}/.well-known/openid-configuration: ")
    answer = client.post("/admin/realms/default/idps/gone/test", headers=bearer(admin_token(runner, client)))
    assert answer.status_code == 200 and answer.get_json()[0]["ok"] is False
