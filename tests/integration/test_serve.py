"""``authserver serve`` for real: SIGTERM drains the request in flight; metrics aggregate
over worker processes."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import ECKey

from authserver import create_app
from authserver.registry import clients, idps
from authserver.registry.realms import get_realm
from tests.factories import AppBackend, make_backend
from tests.support.served import AUTHSERVER, Served

SLOW_SECONDS = 2.0


class _SlowIdP(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        time.sleep(SLOW_SECONDS)
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def instance(tmp_path):
    """An instance folder made by ``authserver init``, and its environment."""
    env = {**os.environ, "AUTHSERVER_INSTANCE_PATH": str(tmp_path / "instance"),
           "AUTHSERVER_ISSUER_BASE_URL": "http://auth.test"}
    env.pop("AUTHSERVER_SQLALCHEMY_DATABASE_URI", None)
    subprocess.run([AUTHSERVER, "init"], env=env, check=True, capture_output=True)
    return env


@pytest.mark.parametrize("server", ["gunicorn", "granian"])
def test_sigterm_drains_the_request_in_flight(instance, server, monkeypatch):
    idp = ThreadingHTTPServer(("127.0.0.1", 0), _SlowIdP)
    threading.Thread(target=idp.serve_forever, daemon=True).start()
    issuer = f"http://127.0.0.1:{idp.server_port}"
    for key, value in instance.items():
        monkeypatch.setenv(key, value)
    app = create_app()
    with app.app_context():
        idps.create_idp(get_realm("default"), {"name": "slow", "type": "oidc",
                                               "config": {"issuer": issuer, "client_ids": ["web"]}}, "test")
    make_backend(app)
    backend = AppBackend(app)
    with app.app_context():
        clients.update_client(get_realm("default"), backend.client_id, {"idps": ["slow"]}, "test")
    now = int(time.time())
    id_token = jwt.encode({"alg": "ES256"}, {"iss": issuer, "sub": "a", "aud": "web", "iat": now,
                                              "exp": now + 300}, ECKey.generate_key("P-256"))
    form = {**backend.exchange_form(id_token, audience="chat-api"),
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token"}
    with Served(instance, server=server, workers=1) as served, ThreadPoolExecutor(1) as pool:
        in_flight = pool.submit(requests.post, f"{served.url}/realms/default/token", data=form, timeout=20)
        time.sleep(SLOW_SECONDS / 2)  # the request now waits on the slow IdP
        served.terminate()
        response = in_flight.result()
        assert served.process.wait(timeout=20) == 0
    idp.shutdown()
    # completed, not cut: the upstream answered 500 after the delay, so the exchange says 503
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"


def test_metrics_aggregate_all_workers(instance):
    with Served(instance, server="gunicorn", workers=2) as served:
        session_count = 20
        for _ in range(session_count):
            requests.get(f"{served.url}/healthz", timeout=5)  # new connection each: spread over workers
        assert requests.get(f"{served.url}/metrics", timeout=5).status_code == 404  # not on the public port
        text = _scrape(served.metrics_url)
    line = next(x for x in text.splitlines()
                if x.startswith('authserver_request_duration_seconds_count{endpoint="health.healthz"}'))
    assert float(line.split()[-1]) >= session_count + 1  # + the readiness probe of Served
    assert 'authserver_signing_keys{realm="default",state="active"} 1.0' in text


def _scrape(url: str, timeout: float = 10) -> str:
    """The management bind's process starts beside the workers: wait for it."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return requests.get(url, timeout=5).text
        except requests.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_serve_with_worker_delivers_webhooks(instance, monkeypatch):
    """The single-host default: ``serve --with-worker`` runs a delivery worker beside the web
    workers; an admin change made through the API reaches a subscribed receiver, verified with
    the Standard Webhooks library, and the worker stops with the server."""
    from tests.cli_helpers import basic, bearer
    from tests.events.receiver import Receiver

    receiver = Receiver().start()
    env = {**instance, "AUTHSERVER_WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "true"}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    app = create_app()
    with app.app_context():
        from authserver.events.subscriptions import create_subscription
        from authserver.registry.bootstrap import bootstrap_admin_client

        issued = create_subscription(get_realm("default"), {"url": receiver.url, "events": ["backend.created"]},
                                     "test")
        receiver.secrets.append(issued.secret)
        admin = bootstrap_admin_client(get_realm("default"), "test")
        admin_id, admin_secret = admin.client.client_id, admin.client_secret
    try:
        with Served(env, server="gunicorn", workers=1, extra=("--with-worker",)) as served:
            token = requests.post(f"{served.url}/realms/default/token", data={
                "grant_type": "client_credentials", "scope": "admin"},
                headers=basic(admin_id, admin_secret), timeout=10).json()["access_token"]
            created = requests.post(f"{served.url}/admin/realms/default/backends", headers=bearer(token),
                                    json={"audience": "hooked-api", "scopes": "chat:read"}, timeout=10)
            assert created.status_code == 201, created.text
            deadline = time.monotonic() + 30
            while not receiver.of_type("backend.created") and time.monotonic() < deadline:
                time.sleep(0.2)
            served.terminate()
            assert served.process.wait(timeout=60) == 0
    finally:
        receiver.stop()
    delivered = receiver.of_type("backend.created")
    assert len(delivered) == 1 and delivered[0].body["data"]["audience"] == "hooked-api"
