"""``authserver --server URL …``: the admin commands through a remote server's admin API
(authserver.cli.remote), against a server the CLI reaches only over HTTP: a LiveServer on a
database the CLI has no way to open (no app is built on the CLI's side, its instance folder
is empty). Same output, same exit codes, as the same commands run on the server's host."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from authserver import cli as cli_package
from authserver.cli import main
from authserver.cli.remote import RemoteAdmin, RemoteFailure
from authserver.events.runtime import webhook_runtime
from authserver.extensions import db
from authserver.models import AuditEvent, User
from authserver.registry.realms import get_realm
from authserver.tokens import usage as usage_service
from tests.cli_helpers import cli
from tests.live_server import LiveServer

AUTHSERVER = os.path.join(os.path.dirname(sys.executable), "authserver")


class Remote:
    """The CLI, in this process but with no app of its own, pointed at ``url``."""

    def __init__(self, url: str, client_id: str, secret: str):
        self.url, self.client_id, self.secret = url, client_id, secret
        self.runner = CliRunner()

    def invoke(self, *args: str, credentials: bool = True):
        options = ["--server", self.url, *(["--client-id", self.client_id, "--client-secret", self.secret]
                                           if credentials else [])]
        return self.runner.invoke(main, [*options, *args])

    def json(self, *args: str):
        result = self.invoke(*args, "--json")
        assert result.exit_code == 0, (result.output, result.exception)
        return json.loads(result.stdout) if result.stdout.strip() else None

    def error(self, *args: str, **kwargs) -> str:
        result = self.invoke(*args, **kwargs)
        assert result.exit_code == 2, (result.output, result.exception)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and not result.stdout.strip() and "Traceback" not in result.output, result.output
        return lines[0]


@pytest.fixture
def server(app, runner, tmp_path, monkeypatch):
    """The server: a LiveServer on the test's database. The CLI side: an empty instance folder,
    and building an app there fails the test."""
    webhook_runtime(app).sender.resolve = lambda host, port: ["93.184.216.34"]
    boot = cli(runner, "admin", "bootstrap")
    empty = tmp_path / "cli-instance"
    empty.mkdir()
    monkeypatch.setenv("AUTHSERVER_INSTANCE_PATH", str(empty))

    def no_app():
        raise AssertionError("the remote CLI built a local app")

    monkeypatch.setattr(cli_package, "_create_app", no_app)
    with LiveServer(app) as live:
        yield Remote(live.url, boot["client_id"], boot["client_secret"])
    assert list(empty.iterdir()) == []


def local(runner, *args: str):
    """The same command on the server's host (the app's own database)."""
    return runner.invoke(main, list(args))


def test_realms(server, runner):
    assert server.json("realms", "create", "support")["name"] == "support"
    assert [r["name"] for r in server.json("realms", "list")] == ["default", "support"]
    assert server.json("realms", "update", "support", "--display-name", "Support")["display_name"] == "Support"
    assert server.json("realms", "show", "support")["counts"]["clients"] == 0
    assert server.error("realms", "delete", "support").startswith("Error: realm 'support' holds 0 backends, 0 clients")
    assert server.json("realms", "delete", "support", "--yes")["deleted"] == "support"
    assert server.error("realms", "show", "support") == "Error: no realm named 'support'"
    assert server.error("realms", "create", "default") == "Error: realm 'default' already exists"
    for args in (("realms", "list"), ("realms", "show", "default")):
        assert server.invoke(*args).stdout == local(runner, *args).stdout  # same text output


def test_clients_backends_and_paging(server, runner, tmp_path):
    acl = tmp_path / "acl.json"
    acl.write_text(json.dumps([{"path": "/v1/users/{user_id}/**", "methods": ["GET"]}]))
    r = ("--realm", "default")
    backend = server.json("backends", "create", *r, "--audience", "https://chat.example/api", "--scopes", "chat:read",
                          "--acl-template", str(acl), "--ttl", "600")
    assert backend["token_ttl"] == 600 and backend["acl_template"][0]["methods"] == ["GET"]
    assert server.json("backends", "show", *r, "https://chat.example/api")["audience"] == "https://chat.example/api"
    assert server.json("backends", "update", *r, "https://chat.example/api", "--default-scopes", "chat:read")[
        "default_scopes"] == ["chat:read"]
    created = server.invoke("clients", "create", *r, "--name", "Web", "--client-id", "web",
                            "--audience", "https://chat.example/api", "--scopes", "chat:read")
    assert created.exit_code == 0 and "client_secret: " in created.stdout
    assert created.stderr.strip() == "Store the client_secret now: it is not shown again."
    assert server.json("clients", "rotate-secret", *r, "web", "--grace", "60")["client_secret"]
    assert server.json("clients", "update", *r, "web", "--name", "Web app")["name"] == "Web app"
    assert server.json("clients", "disable", *r, "web")["disabled"] is True
    assert server.json("clients", "enable", *r, "web")["disabled"] is False
    assert server.json("clients", "revoke-tokens", *r, "web")["client_id"] == "web"
    assert server.json("clients", "initial-token", *r, "--ttl", "600")["expires_in"] == 600
    paged = server.invoke("clients", "list", *r, "--limit", "1", "--json")
    assert [c["client_id"] for c in json.loads(paged.stdout)] == ["admin-cli"]
    cursor = paged.stderr.strip().removeprefix("More: run again with --cursor ")
    assert [c["client_id"] for c in server.json("clients", "list", *r, "--cursor", cursor)] == ["web"]
    assert [c["client_id"] for c in server.json("clients", "list", *r, "--auth-method", "client_secret_basic",
                                                "--enabled")] == ["admin-cli", "web"]
    server.json("backends", "create", *r, "--audience", "matrix-hs", "--scopes", "chat:read", "--profile", "matrix",
                "--credential", '{"server_name": "matrix.example"}')
    for args in (("clients", "list", *r), ("clients", "show", *r, "web"), ("backends", "list", *r),
                 ("backends", "show", *r, "https://chat.example/api"), ("backends", "show", *r, "matrix-hs")):
        assert server.invoke(*args).stdout == local(runner, *args).stdout, args
    assert server.error("backends", "delete", *r, "https://chat.example/api") == local(
        runner, "backends", "delete", *r, "https://chat.example/api").stderr.strip()  # in use: the same refusal
    assert server.json("clients", "delete", *r, "web") == {"deleted": "web"}
    assert server.json("backends", "delete", *r, "https://chat.example/api") == {
        "deleted": "https://chat.example/api"}


def test_idps_users_usage_and_audit(server, app, runner, clock):
    r = ("--realm", "default")
    server.json("idps", "create", *r, "--name", "corp", "--type", "oidc", "--issuer", "https://idp.example",
                "--client-id", "web")
    updated = server.json("idps", "update", *r, "corp", "--userinfo")  # merges the connector settings
    assert updated["config"]["issuer"] == "https://idp.example" and updated["config"]["userinfo"] is True
    assert server.json("idps", "disable", *r, "corp")["disabled"] is True
    assert [i["name"] for i in server.json("idps", "list", *r, "--disabled")] == ["corp"]
    assert server.json("idps", "enable", *r, "corp")["disabled"] is False
    assert server.invoke("idps", "show", *r, "corp").stdout == local(runner, "idps", "show", *r, "corp").stdout
    with app.app_context():
        realm = get_realm("default")
        db.session.add_all([User(realm_id=realm.id, uid="a" * 24, user_id="alice", email="alice@example.test",
                                 created_at=1), User(realm_id=realm.id, uid="b" * 24, user_id="bob", created_at=1)])
        db.session.commit()
        usage_service.record(app.extensions["authserver"].usage, realm, usage_service.month_of(clock()),
                             db.session.scalar(select(User).where(User.user_id == "bob")), "web", "corp", False)
        db.session.commit()
    assert [u["user_id"] for u in server.json("users", "list", *r, "--email", "alice@example.test")] == ["alice"]
    assert server.json("users", "show", *r, "alice")["_id"] == "a" * 24
    assert server.json("users", "disable", *r, "alice")["state"] == "disabled"
    assert server.json("users", "enable", *r, "alice")["state"] == "active"
    assert server.json("users", "revoke-tokens", *r, "alice")["user_id"] == "alice"
    assert server.json("users", "delete", *r, "bob") == {"deleted": "bob"}
    assert server.error("users", "show", *r, "bob") == "Error: no user 'bob' in realm 'default'"
    report = server.json("usage", *r)
    assert (report["active_users"], report["by_client_and_idp"][0]["idp"]) == (1, "corp")  # bob, erased: counted
    for args in (("usage", *r), ("usage", *r, "--format", "csv"), ("users", "list", *r)):
        assert server.invoke(*args).stdout == local(runner, *args).stdout, args
    audit = server.json("audit", *r, "--actor", "client:admin-cli", "--limit", "3")
    assert [e["action"] for e in audit] == ["user.delete", "user.revoke_tokens", "user.enable"]
    assert [e["target_id"] for e in server.json("audit", *r, "--action", "idp.create")] == ["corp"]
    assert server.json("idps", "delete", *r, "corp") == {"deleted": "corp"}


def test_keys_and_a_token_renewed_after_its_key_was_retired(server, app):
    r = ("--realm", "default")
    (active,) = server.json("keys", "list", *r)
    pending = server.json("keys", "rotate", *r)["kid"]
    assert server.json("keys", "cancel-rotation", *r)["kid"] == pending
    done = server.json("keys", "retire-now", *r, active["kid"])
    assert done["retired"]["kid"] == active["kid"] and done["activated"]["state"] == "active"
    text = server.invoke("keys", "retire-now", *r, done["activated"]["kid"])
    assert text.exit_code == 0 and text.stdout.split()[:3] == ["CHANGE", "KID", "ALG"]
    assert [line.split()[0] for line in text.stdout.splitlines()[1:]] == ["retired", "activated"]
    remote = RemoteAdmin(server.url, server.client_id, server.secret, "default")
    remote.list("/realms/default/keys")
    with app.app_context():
        (key,) = app.extensions["authserver"].keys.list_keys(get_realm("default"))
        kid = key.kid
    remote.request("POST", f"/realms/default/keys/{kid}/retire-now")  # voids the token remote holds…
    assert len(remote.list("/realms/default/keys")) == 1  # …which it renews on the 401
    audit = server.json("audit", *r, "--target-type", "key", "--limit", "2")
    assert [(e["action"], e["actor"]) for e in audit] == [("key.retire_now", "client:admin-cli")] * 2


class CountingSession(requests.Session):
    def __init__(self):
        super().__init__()
        self.token_requests = 0

    def request(self, method, url, *args, **kwargs):
        self.token_requests += url.endswith("/token")
        return super().request(method, url, *args, **kwargs)


def test_the_token_is_obtained_once_and_renewed_before_it_expires(server, clock):
    session, now = CountingSession(), [0.0]
    remote = RemoteAdmin(server.url, server.client_id, server.secret, "default", session=session, clock=lambda: now[0])
    for _ in range(3):
        remote.list("/realms")
    assert session.token_requests == 1
    now[0] += 900 - 29  # within 30 s of the token's expiry: a new one first
    remote.list("/realms")
    assert session.token_requests == 2
    clock.advance(3600)  # the server's clock: the token it holds has expired there
    remote.list("/realms")
    assert session.token_requests == 3  # refused once (401), renewed, retried


def test_webhooks_need_a_realm_remotely(server):
    created = server.json("webhooks", "create", "--realm", "default", "--url", "https://hooks.example/in")
    assert created["secret"].startswith("whsec_")
    assert server.error("webhooks", "list") == "Error: --realm: needed with --server (the admin API names the realm)"
    assert [w["id"] for w in server.json("webhooks", "list", "--realm", "default")] == [created["id"]]
    delivery = server.json("webhooks", "test", created["id"], "--realm", "default")
    assert [d["id"] for d in server.json("webhooks", "deliveries", created["id"], "--realm", "default")] == [
        delivery["id"]]
    tested = server.json("audit", "--realm", "default", "--action", "webhook.test")  # a test event is audited too
    assert [(e["target_id"], e["after"]["delivery"]) for e in tested] == [(created["id"], delivery["id"])]
    assert server.json("webhooks", "update", created["id"], "--realm", "default", "--disable")["enabled"] is False
    assert server.json("webhooks", "delete", created["id"], "--realm", "default") == {"deleted": created["id"]}


def test_failures_are_one_line_and_exit_2(server, runner, tmp_path):
    assert server.error("clients", "show", "--realm", "default", "nope") == local(
        runner, "clients", "show", "--realm", "default", "nope").stderr.strip() == (
        "Error: no client 'nope' in realm 'default'")
    assert server.error("clients", "create", "--realm", "default", "--name", "x", "--audience", "nope") == local(
        runner, "clients", "create", "--realm", "default", "--name", "x", "--audience", "nope").stderr.strip()
    assert server.error("keys", "list", "--realm", "nope") == "Error: no realm named 'nope'"
    assert server.error("realms", "list", credentials=False).startswith("Error: --server needs an admin client")
    wrong = Remote(server.url, server.client_id, "wrong-secret")
    assert wrong.error("realms", "list").startswith(f"Error: admin login at {server.url}/realms/default/token refused:")
    assert Remote(server.url, server.client_id, server.secret).error(
        "--realm-of-credentials", "nope", "realms", "list").startswith("Error: admin login at")
    assert Remote("http://127.0.0.1:9", "a", "b").error("realms", "list") == (
        "Error: cannot reach http://127.0.0.1:9: connection refused or no route to the host")
    assert server.error("init") == ("Error: `init` runs on the server's host, not through --server; --server "
                                    "takes: audit, backends, clients, explain, idps, keys, realms, usage, users, "
                                    "webhooks")
    assert Remote("ftp://x", "a", "b").error("realms", "list").startswith("Error: --server: expected")
    result = CliRunner().invoke(main, ["--client-id", "x", "realms", "list"])
    assert result.exit_code == 2 and "--client-id: only with --server URL" in result.output
    # AUTHSERVER_ADMIN_URL sends the admin commands away; the host's own commands still run here
    result = CliRunner(env={"AUTHSERVER_ADMIN_URL": server.url}).invoke(main, ["init", "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_a_realm_admin_manages_its_own_realm_only(server, app, runner):
    cli(runner, "realms", "create", "tenant")
    boot = cli(runner, "admin", "bootstrap", "--realm", "tenant")
    tenant = Remote(server.url, boot["client_id"], boot["client_secret"])
    assert tenant.json("--realm-of-credentials", "tenant", "clients", "list", "--realm", "tenant")[0][
        "client_id"] == "admin-cli"
    assert tenant.error("--realm-of-credentials", "tenant", "clients", "list", "--realm", "default") == (
        "Error: The access token is invalid, expired, or not for this realm.")
    with app.app_context():
        actors = set(db.session.scalars(select(AuditEvent.actor)))
    assert "cli" in actors


def test_from_another_process_with_an_empty_instance_folder(server, tmp_path):
    """The console script, with only the environment: no database URL, no SECRET_KEY."""
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHSERVER_", "FLASK_"))}
    env.update(AUTHSERVER_INSTANCE_PATH=str(empty), AUTHSERVER_ADMIN_URL=server.url,
               AUTHSERVER_ADMIN_CLIENT_ID=server.client_id, AUTHSERVER_ADMIN_CLIENT_SECRET=server.secret)

    def run(*args):
        return subprocess.run([AUTHSERVER, *args], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)

    created = run("realms", "create", "from-afar", "--json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["name"] == "from-afar"
    listed = run("clients", "list", "--realm", "default")
    assert listed.returncode == 0 and listed.stdout.split()[0] == "CLIENT_ID" and "admin-cli" in listed.stdout
    missing = run("users", "show", "--realm", "default", "nobody")
    assert (missing.returncode, missing.stdout, missing.stderr) == (
        2, "", "Error: no user 'nobody' in realm 'default'\n")
    assert list(empty.iterdir()) == []


def test_a_server_that_is_no_authserver_is_one_line_too():
    """Redirects and answers that are not JSON: one line, exit 2, never a traceback."""
    from flask import Flask, redirect

    other = Flask("not-authserver")
    for rule, method, answer in (
            ("/realms/default/token", "POST", lambda: {"access_token": "t", "token_type": "Bearer", "expires_in": 60}),
            ("/admin/realms", "GET", lambda: redirect("https://elsewhere.example/admin/realms")),
            ("/admin/realms/x", "GET", lambda: "<html>hello</html>"),
            ("/admin/realms/x/clients", "GET", lambda: {"not": "a list"})):
        other.add_url_rule(rule, rule, answer, methods=[method])
    with LiveServer(other) as live:
        remote = Remote(live.url, "a", "b")
        assert remote.error("realms", "list") == (
            f"Error: {live.url}/admin/realms redirects to https://elsewhere.example/admin/realms: give --server "
            "the URL the server answers at")
        assert remote.error("realms", "show", "x") == (
            f"Error: {live.url}/admin/realms/x: the answer is not JSON (is --server an authserver?)")
        assert remote.error("clients", "list", "--realm", "x").endswith("expected a JSON array, got something else")
        with pytest.raises(RemoteFailure):
            RemoteAdmin(live.url, "a", "b", "nope").request("GET", "/realms")
