"""The browser login end to end, with parties authserver did not write: panva's
``openid-client`` (a certified Relying Party, npm) is the app, a real headless Chromium
(Debian's ``chromium`` driven by npm ``playwright-core``) is the browser, npm ``oidc-provider``
is the upstream IdP, and PyJWT verifies the chat JWT against authserver's JWKS. authserver is
served on a real loopback port.

Screenshots of every page the browser saw are kept in ``tests/artifacts/browser/``.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from pathlib import Path

import jwt as pyjwt
import pytest
import requests

from authserver.plugin_api import TOKEN_TYPE_ID_TOKEN
from authserver.registry import idps
from authserver.registry.realms import create_realm, get_realm
from tests.factories import TOKEN_EXCHANGE, make_backend, make_client
from tests.live_server import LiveServer
from tests.support.upstream_idp import UpstreamIdP

pytestmark = pytest.mark.integration
HERE = Path(__file__).resolve().parent
BROWSER_SUPPORT = HERE.parent / "support" / "browser"
ARTIFACTS = HERE.parent / "artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


APP = f"http://127.0.0.1:{_free_port()}"  # the app's origin: the node script serves its redirect URIs
BROKER_SECRET = "broker-secret-0123456789abcdef0123456789abcdef"


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return "Chromium is not installed (scripts/bootstrap --test installs Debian's chromium)"
    if not (BROWSER_SUPPORT / "node_modules" / "openid-client").exists():
        return "npm modules missing: npm ci --prefix tests/support/browser"
    if shutil.which("node") is None:
        return "node is not installed"
    return None


@pytest.fixture
def stack(make_app, clock):
    reason = _missing()
    if reason:
        pytest.skip(reason)
    clock.current = time.time()
    app = make_app()
    with app.app_context():
        create_realm("default")
    with LiveServer(app) as server:
        app.config["ISSUER_BASE_URL"] = server.url
        callback = f"{server.url}/realms/default/broker/corp/callback"
        partner_callback = f"{server.url}/realms/default/broker/partner/callback"
        upstream_clients = [{"client_id": "authserver", "client_secret": BROKER_SECRET,
                             "redirect_uris": [callback, partner_callback]},
                            {"client_id": "chat-web", "client_secret": "chat-web-secret-0123456789abcdef0123456789ab",
                             "redirect_uris": ["https://chat-web.example.test/callback"]}]
        with UpstreamIdP(clients=upstream_clients) as upstream:
            _configure(app, upstream)
            yield server, upstream


def _configure(app, upstream) -> None:
    make_backend(app)
    with app.app_context():
        for name in ("corp", "partner"):
            idps.create_idp(get_realm("default"), {
                "name": name, "type": "oidc", "config": {"issuer": upstream.issuer, "client_ids": ["authserver"]},
                "upstream_client_id": "authserver", "upstream_auth_method": "client_secret_basic",
                "upstream_secret": BROKER_SECRET}, "test")
    for client_id in ("chat-widget", "chat-admin"):
        make_client(app, client_id=client_id, name=client_id.replace("-", " ").title(), auth_method="none",
                    grant_types=["authorization_code", "refresh_token", TOKEN_EXCHANGE],
                    redirect_uris=[f"{APP}/{client_id}/cb"], post_logout_redirect_uris=[f"{APP}/bye"],
                    audiences=["chat-api"], scopes="chat:read chat:write", idps=["corp", "partner"])


def run_rp(server, upstream) -> dict:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    config = {"issuer": f"{server.url}/realms/default", "audience": "chat-api", "scope": "openid email chat:read",
              "username": "alice", "upstream_origin": upstream.issuer.rstrip("/"), "chromium": CHROMIUM,
              "clients": [{"client_id": c, "redirect_uri": f"{APP}/{c}/cb"} for c in ("chat-widget", "chat-admin")],
              "post_logout_redirect_uri": f"{APP}/bye", "screenshots": str(ARTIFACTS), "app_origin": APP}
    done = subprocess.run(["node", str(BROWSER_SUPPORT / "rp_login.mjs"), json.dumps(config)], capture_output=True,
                          text=True, timeout=120, cwd=BROWSER_SUPPORT)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    (ARTIFACTS / "report.json").write_text(json.dumps(report, indent=2))
    assert "error" not in report, (report["error"], report.get("failed"), [p["url"] for p in report["pages"]])
    return report


def test_openid_client_logs_in_through_chromium(stack):
    server, upstream = stack
    report = run_rp(server, upstream)
    issuer = f"{server.url}/realms/default"

    login = report["steps"]["login"]
    assert login["seen"][0] == "authserver-login" and "upstream-login" in login["seen"]
    id_token = login["id_token_claims"]  # validated by openid-client: signature, iss, aud, nonce
    assert id_token["iss"] == issuer and id_token["aud"] == "chat-widget" and id_token["auth_time"]
    assert id_token["at_hash"]

    signing_key = pyjwt.PyJWKClient(f"{issuer}/jwks").get_signing_key_from_jwt(login["access_token"])
    chat = pyjwt.decode(login["access_token"], signing_key.key, algorithms=["ES256"], audience="chat-api",
                        issuer=issuer, leeway=120)
    assert pyjwt.get_unverified_header(login["access_token"])["typ"] == "at+jwt"
    assert chat["sub"] == id_token["sub"] and chat["idp"] == "corp"

    exchanged = requests.post(f"{issuer}/token", timeout=10, data={
        "grant_type": TOKEN_EXCHANGE, "client_id": "chat-widget", "idp": "corp", "audience": "chat-api",
        "subject_token": upstream.login("alice", client_id="authserver")["id_token"],
        "subject_token_type": TOKEN_TYPE_ID_TOKEN}).json()
    assert pyjwt.decode(exchanged["access_token"], options={"verify_signature": False})["uid"] == chat["uid"]

    refresh = report["steps"]["refresh"]
    assert refresh == {"rotated": True, "reuse_error": "invalid_grant", "family_error": "invalid_grant"}

    sso = report["steps"]["sso"]
    assert sso["seen"] == [] and sso["aud"] == "chat-admin" and sso["sub"] == id_token["sub"]

    silent = report["steps"]["prompt_none"]
    assert silent["error"] == "login_required" and silent["iss"] == issuer and silent["state"] == "silent"

    logout = report["steps"]["logout"]
    assert logout["returned"] == f"{APP}/bye?state=bye"
    assert logout["after"]["error"] == "login_required"

    assert report["frame_headers"]["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in report["frame_headers"]["content-security-policy"]
    shots = [page["file"] for page in report["pages"]]
    assert any(name.endswith("first-authserver-login.png") for name in shots)
    assert all(Path(name).stat().st_size > 1000 for name in shots)
