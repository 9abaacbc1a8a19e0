"""The stack the browser tests run against: authserver served on a loopback port, a real
upstream OpenID Provider (``tests/support/oidc_provider``), and a realm configured through the
``authserver`` CLI as an operator would (a chat backend, two IdP connections with their upstream
client, a public and a confidential code-flow client).

    with e2e_stack(database_url) as stack:
        stack.issuer, stack.clients, stack.upstream, stack.app_origin

The app (``rp_login.mjs``) serves its redirect URIs on ``stack.app_origin``.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from authserver import create_app
from authserver.cli import main
from authserver.clock import SystemClock
from authserver.extensions import db
from tests.conftest import base_config
from tests.events.receiver import free_port
from tests.live_server import LiveServer
from tests.support.upstream_idp import PROVIDER_DIR, UpstreamIdP

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "rp_login.mjs"
ARTIFACTS = HERE.parents[1] / "artifacts" / "browser" / "e2e"
#: the browser; AUTHSERVER_TEST_CHROMIUM names another build
CHROMIUM = os.environ.get("AUTHSERVER_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
REALM = "default"
BROKER_SECRET = "broker-secret-0123456789abcdef0123456789abcdef"
#: name in the driver's config -> (client_id, CLI options after the common ones)
CLIENTS = {
    "widget": ("chat-widget", ["--public", "--grant-type", "token-exchange", "--allow-anonymous"]),
    "admin": ("chat-admin", ["--public"]),
    "console": ("chat-console", ["--auth-method", "client_secret_basic", "--require-par"]),
}


def missing_stack() -> str | None:
    """Why the stack cannot run here (node or the upstream's npm modules), or None."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return "npm modules missing: npm ci --prefix tests/support/oidc_provider (scripts/bootstrap --test)"
    return None


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return "chromium is not installed (scripts/bootstrap --test installs Debian's chromium as root)"
    for module in ("openid-client", "playwright-core"):
        if not (HERE / "node_modules" / module).is_dir():
            return f"npm module {module} missing: npm ci --prefix tests/support/browser (scripts/bootstrap --test)"
    return missing_stack()


@dataclass
class E2EStack:
    server_url: str
    upstream: UpstreamIdP
    app_origin: str
    clients: dict[str, dict] = field(default_factory=dict)
    app: Any = None  # the Flask app behind server_url (its CLI runner configures the realm)

    @property
    def issuer(self) -> str:
        return f"{self.server_url}/realms/{REALM}"

    def app_page(self, name: str) -> str:
        return f"{self.app_origin}/{name}"


@contextmanager
def e2e_stack(database_url: str) -> Iterator[E2EStack]:
    """authserver (wall-clock time: the upstream's tokens carry it) and the upstream, configured."""
    app = create_app(base_config(database_url, CLOCK=SystemClock()))
    try:
        with LiveServer(app) as server:
            app.config["ISSUER_BASE_URL"] = server.url
            callbacks = [f"{server.url}/realms/{REALM}/broker/{idp}/callback" for idp in ("corp", "partner")]
            broker = {"client_id": "authserver", "client_secret": BROKER_SECRET, "redirect_uris": callbacks}
            with UpstreamIdP(clients=[broker]) as upstream:
                stack = E2EStack(server.url, upstream, f"http://127.0.0.1:{free_port()}", app=app)
                configure(app, stack)
                yield stack
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def configure(app, stack: E2EStack) -> None:
    """The realm, through the CLI: backend, IdP connections (secret on stdin), clients."""
    runner = app.test_cli_runner()
    cli(runner, "realms", "create", REALM)
    cli(runner, "backends", "create", "--realm", REALM, "--audience", "chat-api",
        "--scopes", "chat:read chat:write", "--default-scopes", "chat:read")
    for idp in ("corp", "partner"):
        cli(runner, "idps", "create", "--realm", REALM, "--name", idp, "--type", "oidc",
            "--issuer", stack.upstream.issuer, "--client-id", "authserver", "--upstream-client-id", "authserver",
            "--upstream-auth-method", "client_secret_basic", "--upstream-secret-file", "-", stdin=BROKER_SECRET)
    for name, (client_id, options) in CLIENTS.items():
        redirect_uri = stack.app_page(f"{client_id}/cb")
        created = cli(runner, "clients", "create", "--realm", REALM, "--client-id", client_id,
                      "--name", client_id.replace("-", " ").title(), *options,
                      "--grant-type", "authorization_code", "--grant-type", "refresh_token",
                      "--redirect-uri", redirect_uri, "--post-logout-redirect-uri", stack.app_page("bye"),
                      "--audience", "chat-api", "--scopes", "chat:read chat:write", "--idp", "corp", "--idp", "partner")
        stack.clients[name] = {"client_id": client_id, "redirect_uri": redirect_uri,
                               "client_secret": created.get("client_secret"),
                               "auth_method": created["auth_method"]}


def cli(runner, *args: str, stdin: str | None = None) -> dict:
    result = runner.invoke(main, [*args, "--json"], input=stdin)
    assert result.exit_code == 0, f"authserver {' '.join(args)}: {result.output}"
    return json.loads(result.stdout)
