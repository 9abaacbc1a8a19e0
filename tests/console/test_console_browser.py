"""The admin console in a real headless Chromium (Debian's ``chromium``, driven by npm
``playwright-core`` from ``tests/support/browser/console.mjs``), against authserver on a
loopback port and the real upstream ``oidc-provider``, the realm set up through the CLI.

One admin walks the console from the one-time link: creates a chat backend and a client (the
secret appears once), tests an IdP connection against the upstream, finds a user, revokes their
tokens (introspection then answers ``active: false``), views the usage chart, and runs explain
on a real upstream ID token. A viewer signs in through the realm's browser login and may only
look. A screenshot of every page is kept in ``tests/artifacts/browser/console/``.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import requests

from authserver.plugin_api import TOKEN_TYPE_ID_TOKEN
from tests.factories import TOKEN_EXCHANGE
from tests.support.browser.e2e import ARTIFACTS, CHROMIUM, cli, e2e_stack, missing_browser

pytestmark = pytest.mark.integration
DRIVER = ARTIFACTS.parents[2] / "support" / "browser" / "console.mjs"
SCREENSHOTS = ARTIFACTS.parent / "console"
REALM = "default"


@pytest.fixture
def stack(database_url):
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    with e2e_stack(database_url) as running:
        yield running


def drive(stack, who: str, steps: list[dict]) -> dict:
    folder = SCREENSHOTS / who
    shutil.rmtree(folder, ignore_errors=True)
    config = {"chromium": CHROMIUM, "screenshots": str(folder), "authserver_origin": stack.server_url,
              "upstream": {"origin": stack.upstream.issuer.rstrip("/"), "username": "alice"}, "steps": steps}
    done = subprocess.run(["node", str(DRIVER)], input=json.dumps(config), capture_output=True, text=True,
                          timeout=120, cwd=DRIVER.parent)
    assert done.returncode == 0 and done.stdout.strip(), f"driver failed: {done.stderr[-3000:]}"
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["error"] is None, json.dumps({k: report[k] for k in ("error", "failed_step")}, indent=1)
    return report


def exchange(stack) -> str:
    """alice's upstream ID token exchanged for a chat JWT by the widget (she becomes a user)."""
    id_token = stack.upstream.login("alice", client_id="authserver")["id_token"]
    answer = requests.post(f"{stack.issuer}/token", timeout=10, data={
        "grant_type": TOKEN_EXCHANGE, "client_id": "chat-widget", "idp": "corp", "audience": "chat-api",
        "subject_token": id_token, "subject_token_type": TOKEN_TYPE_ID_TOKEN})
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def introspect(stack, introspector: dict, token: str) -> dict:
    answer = requests.post(f"{stack.issuer}/introspect", data={"token": token}, timeout=10,
                           auth=(introspector["client_id"], introspector["client_secret"]))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_an_admin_and_a_viewer_use_the_console(stack, capsys):
    runner = stack.app.test_cli_runner()
    introspector = cli(runner, "clients", "create", "--realm", REALM, "--name", "Chat API", "--serves", "chat-api",
                       "--grant-type", "client_credentials")
    earlier_token = exchange(stack)
    assert introspect(stack, introspector, earlier_token)["active"] is True
    alice = cli(runner, "users", "list", "--realm", REALM)[0]
    link = cli(runner, "admin", "console-link", "--url", stack.server_url)["url"]
    console = f"{stack.server_url}/console"
    realm = f"{console}/realms/{REALM}"
    id_token_for_explain = stack.upstream.login("alice", client_id="authserver")["id_token"]

    report = drive(stack, "admin", [
        {"do": "goto", "url": f"{console}/realms", "shot": "signed-out"},
        {"do": "goto", "url": link, "shot": "one-time-link"},
        {"do": "click", "selector": "#use-link", "shot": "home"},
        {"do": "goto", "url": f"{console}/realms", "shot": "realms"},
        # a chat backend, then a client for it: the secret appears once
        {"do": "goto", "url": f"{realm}/backends"},
        {"do": "fill", "fields": {"#f-audience": "support-api", "#f-scopes": "support:read support:write",
                                  "#f-default_scopes": "support:read", "#f-credential": ""}},
        {"do": "click", "selector": "#create-backend", "shot": "backend-created"},
        {"do": "read", "selector": "#notice", "as": "backend_notice"},
        {"do": "goto", "url": f"{realm}/clients"},
        {"do": "fill", "fields": {"#f-name": "Support desk", "#f-audiences": "support-api",
                                  "#f-scopes": "support:read"}},
        {"do": "check", "selector": "input[name='grant:client_credentials']"},
        {"do": "click", "selector": "#create-client", "shot": "client-created"},
        {"do": "read", "selector": "#client-secret", "as": "client_secret"},
        {"do": "read", "selector": "#notice", "as": "client_notice"},
        {"do": "goto", "url": f"{realm}/clients", "shot": "clients"},
        {"do": "count", "selector": "#client-secret", "as": "secret_shown_again"},
        # test an IdP connection against the real upstream
        {"do": "goto", "url": f"{realm}/idps"},
        {"do": "click", "selector": f"form[action='/console/realms/{REALM}/idps/corp/test'] button",
         "shot": "idp-tested"},
        {"do": "read", "selector": "#probe", "as": "probe"},
        {"do": "count", "selector": "#probe tr.failed", "as": "probe_failures"},
        # find the user, revoke their tokens
        {"do": "goto", "url": f"{realm}/users"},
        {"do": "select", "selector": "#f-by", "value": "_id"},
        {"do": "fill", "fields": {"#f-q": alice["_id"]}},
        {"do": "click", "selector": "#search", "shot": "users-found"},
        {"do": "click", "selector": f"a[href='/console/realms/{REALM}/users/{alice['_id']}']", "shot": "user"},
        {"do": "click", "selector": "form[action$='/revoke-tokens'] button", "shot": "user-tokens-revoked"},
        {"do": "read", "selector": "#notice", "as": "revoked_notice"},
        # usage, keys, audit, webhooks
        {"do": "goto", "url": f"{realm}/usage", "shot": "usage"},
        {"do": "count", "selector": "#usage-chart rect", "as": "chart_bars"},
        {"do": "read", "selector": "#usage-total", "as": "usage_total"},
        {"do": "request", "url": f"{realm}/usage.csv", "as": "csv"},
        {"do": "goto", "url": f"{realm}/keys", "shot": "keys"},
        {"do": "goto", "url": f"{realm}/audit", "shot": "audit"},
        {"do": "goto", "url": f"{realm}/webhooks", "shot": "webhooks"},
        # explain, on a real upstream ID token
        {"do": "goto", "url": f"{realm}/explain"},
        {"do": "fill", "fields": {"#f-client_id": "chat-widget", "#f-subject_token": id_token_for_explain,
                                  "#f-idp": "corp", "#f-audience": "chat-api"}},
        {"do": "click", "selector": "#explain", "shot": "explain"},
        {"do": "read", "selector": "#verdict", "as": "verdict"},
        {"do": "read", "selector": "#claims", "as": "claims"},
        # a POST without the CSRF token, and the link a second time
        {"do": "request", "method": "POST", "url": f"{realm}/clients", "form": {"name": "Forged"}, "as": "forged"},
        {"do": "context", "name": "second"},
        {"do": "goto", "url": link},
        {"do": "click", "selector": "#use-link", "shot": "link-used-twice"},
        {"do": "read", "selector": "#error", "as": "second_use"},
    ])
    values = report["values"]
    assert values["backend_notice"] == "Chat backend support-api created."
    backend = cli(runner, "backends", "show", "--realm", REALM, "support-api")
    assert (backend["profile"], backend["credential_set"]) == ("native", False)  # the form's defaults
    assert values["client_secret"] and len(values["client_secret"]) >= 32
    assert values["secret_shown_again"] == 0
    assert "discovery" in values["probe"] and "jwks" in values["probe"] and values["probe_failures"] == 0
    assert stack.upstream.issuer in values["probe"]
    assert values["revoked_notice"].startswith("Every token issued to this user")
    assert introspect(stack, introspector, earlier_token) == {"active": False}
    assert values["chart_bars"] >= 1 and "1 unique users" in values["usage_total"]
    assert values["csv"]["status"] == 200 and "chat-widget,corp,false,1" in values["csv"]["text"]
    assert values["verdict"] == "Would issue a token"
    assert json.loads(values["claims"])["claims"]["uid"] == alice["_id"]
    assert values["forged"]["status"] == 403 and "CSRF" in values["forged"]["text"]
    assert "already used" in values["second_use"]
    assert report["console"] == [], report["console"]  # no CSP violation, no failed load
    for document in report["documents"]:
        if document["url"].startswith(console):
            assert "script-src 'self'" in document["csp"] and "frame-ancestors 'none'" in document["csp"]
            assert document["x_frame_options"] == "DENY" and document["cache_control"] == "no-store"

    # The created client works: its secret (shown once) gets a token for the new backend.
    created = [c for c in cli(runner, "clients", "list", "--realm", REALM) if c["name"] == "Support desk"][0]
    answer = requests.post(f"{stack.issuer}/token", timeout=10, auth=(created["client_id"], values["client_secret"]),
                           data={"grant_type": "client_credentials", "audience": "support-api"})
    assert answer.status_code == 200, answer.text
    assert not [c for c in cli(runner, "clients", "list", "--realm", REALM) if c["name"] == "Forged"]

    # A viewer signs in through the realm's own browser login (the upstream's pages) and only looks.
    cli(runner, "users", "set-console-role", "--realm", REALM, alice["_id"], "viewer")
    viewer = drive(stack, "viewer", [
        {"do": "sign_in", "url": f"{console}/login", "until": console, "shot": "viewer-home"},
        {"do": "read", "selector": "header .who span", "as": "who"},
        {"do": "goto", "url": f"{realm}/clients", "shot": "viewer-clients"},
        {"do": "count", "selector": "#create-client", "as": "create_form"},
        {"do": "read", "selector": "input[name=csrf]", "attribute": "value", "as": "csrf"},
        {"do": "request", "method": "POST", "url": f"{realm}/clients", "form": {"csrf": "$csrf", "name": "Viewer's"},
         "as": "viewer_post"},
        {"do": "goto", "url": f"{realm}/idps"},
        {"do": "click", "selector": "form[action$='/idps/corp/test'] button", "shot": "viewer-idp-tested"},
        {"do": "count", "selector": "#probe tr.ok", "as": "viewer_probe_ok"},
    ])
    assert viewer["values"]["who"].endswith("· viewer")
    assert viewer["values"]["create_form"] == 0 and viewer["values"]["viewer_probe_ok"] >= 2
    assert viewer["values"]["viewer_post"]["status"] == 403 and "viewer" in viewer["values"]["viewer_post"]["text"]
    assert not [c for c in cli(runner, "clients", "list", "--realm", REALM) if c["name"] == "Viewer's"]
    with capsys.disabled():
        print(f"\n  console screenshots: {SCREENSHOTS}")
