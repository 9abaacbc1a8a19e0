"""Metrics, request ids and logs: JSON lines, and never a token, secret or key in them."""

from __future__ import annotations

import io
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from authserver.observability.logs import configure_logging, redact
from authserver.observability.metrics import Metrics
from authserver.outbound.http_client import RequestsHttpClient
from authserver.plugin_api import UpstreamUnavailable
from tests.cli_helpers import cli
from tests.factories import AppBackend, basic_auth, make_backend
from tests.support.metrics import scrape


def _exchange(client, backend, clock, **extra):
    return client.post("/realms/default/token", data={
        **backend.exchange_form(backend.assertion(now=clock()), audience="chat-api"), **extra})


def test_metrics_count_token_requests_by_grant_and_result(app, client, clock):
    make_backend(app)
    backend = AppBackend(app)
    assert _exchange(client, backend, clock).status_code == 200
    assert _exchange(client, backend, clock, client_secret="wrong").status_code == 401
    text = scrape(app)
    assert 'authserver_token_requests_total{grant="token_exchange",result="ok"} 1.0' in text
    assert 'authserver_token_requests_total{grant="token_exchange",result="invalid_client"} 1.0' in text
    assert 'authserver_request_duration_seconds_count{endpoint="token.token"} 2.0' in text
    assert 'authserver_signing_keys{realm="default",state="active"} 1.0' in text
    assert "authserver_database_up 1.0" in text


class _Upstream(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        status = 200 if self.path.endswith("jwks") else 500
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"keys": []}')

    def log_message(self, *args):
        pass


def test_upstream_fetches_and_failures_are_counted():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    metrics, http = Metrics(), RequestsHttpClient(connect_timeout=1, read_timeout=1)
    http.observer = metrics.observe_upstream
    try:
        http.get(f"{base}/jwks")
        http.get(f"{base}/.well-known/openid-configuration")
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(UpstreamUnavailable):
        http.get(f"{base}/jwks")  # the server is gone: a failure
    value = metrics.registry.get_sample_value
    assert value("authserver_upstream_requests_total", {"kind": "jwks", "result": "ok"}) == 1
    assert value("authserver_upstream_requests_total", {"kind": "jwks", "result": "failure"}) == 1
    assert value("authserver_upstream_requests_total", {"kind": "discovery", "result": "http_5xx"}) == 1


def test_request_id_is_echoed_or_generated(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32
    unsafe = client.get("/healthz", headers={"X-Request-ID": "bad id<script>"})
    assert unsafe.headers["X-Request-ID"] != "bad id<script>"


def test_no_token_secret_or_key_in_any_log(app, client, clock, caplog):
    """Good and bad token requests, with logging as in production: JSON lines carrying the
    request id, and none of the secrets, assertions or issued tokens anywhere."""
    make_backend(app)
    backend = AppBackend(app)
    stream = io.StringIO()
    handler = configure_logging("json", "DEBUG", stream)
    caplog.set_level(logging.DEBUG)
    try:
        good = _exchange(client, backend, clock)
        issued = good.get_json()["access_token"]
        bad_requests = [
            _exchange(client, backend, clock, client_secret="wrong-secret-value-123"),
            _exchange(client, backend, clock, subject_token="eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"),
            client.post("/realms/default/token", data={"grant_type": "client_credentials"},
                        headers=basic_auth(backend.client_id, backend.secret)),
            client.post("/realms/default/introspect", data={"token": issued},
                        headers=basic_auth(backend.client_id, "not-the-secret")),
        ]
        logging.getLogger("authserver.test").warning(
            "a careless line: client_secret=%s Authorization: Bearer %s token=%s",
            backend.secret, issued, issued)
    finally:
        logging.getLogger().removeHandler(handler)
    assert good.status_code == 200 and all(r.status_code >= 400 for r in bad_requests)
    secrets = [backend.secret, issued, "wrong-secret-value-123", "not-the-secret",
               issued.split(".")[1], "eyJzdWIiOiJ4In0"]
    output = stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert any(line.get("request_id") for line in lines)
    assert any(line["logger"] == "authserver.access" and line.get("status") == 401 for line in lines)
    for secret in secrets:
        assert secret not in output
    raw = caplog.text.replace(issued, "")  # the careless line, before redaction, is the only one
    for secret in secrets[2:4]:
        assert secret not in raw


def test_a_console_link_is_not_in_the_access_log(app, client, runner):
    """The single-use sign-in link's token is in its URL: the access log shows the route."""
    url = cli(runner, "admin", "console-link")["url"]
    path = "/" + url.split("/", 3)[3]
    token = path.rsplit("/", 1)[1]
    stream = io.StringIO()
    handler = configure_logging("json", "INFO", stream)
    try:
        assert client.get(path).status_code == 200
        assert client.post(path).status_code == 303
        assert client.post(path).status_code == 403
    finally:
        logging.getLogger().removeHandler(handler)
    access = [json.loads(line) for line in stream.getvalue().splitlines() if '"authserver.access"' in line]
    assert [line["path"] for line in access] == ["/console/link/[redacted]"] * 3
    assert token not in stream.getvalue()


def test_the_access_line_redacts_what_a_client_puts_in_its_path_and_request_id(client):
    """An access line is redacted member by member: a secret parameter or a JWT in the path
    (which the client chooses) is gone, and the line is still one JSON object."""
    jwt = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    stream = io.StringIO()
    handler = configure_logging("json", "INFO", stream)
    try:
        client.get("/realms/default/client_secret=hunter2-value")
        client.get(f"/realms/default/{jwt}", headers={"X-Request-ID": "token:abc123"})
    finally:
        logging.getLogger().removeHandler(handler)
    access = [json.loads(line) for line in stream.getvalue().splitlines() if '"authserver.access"' in line]
    assert [line["status"] for line in access] == [404, 404]
    assert access[0]["path"] == "/realms/default/client_secret=[redacted]"
    assert access[1]["path"] == "/realms/default/[redacted jwt]" and access[1]["request_id"] == "token:[redacted]"
    for secret in ("hunter2-value", "eyJzdWIiOiJ4In0", "abc123"):
        assert secret not in stream.getvalue()


def test_redact_leaves_text_without_markers_alone_and_finds_every_marker():
    """Every pattern needs ``=``, ``:``, ``eyJ`` or a PEM header: text without them is
    returned as it is, text with any of them is still redacted."""
    for plain in ("POST /realms/default/token 200", "127.0.0.1", "GET /console/link/[redacted] 303"):
        assert redact(plain) is plain
    assert redact("x client_secret=abc y") == "x client_secret=[redacted] y"
    assert redact("Authorization: Bearer abc") == "Authorization: [redacted]"
    assert redact("eyJhbGciOi.eyJzdWIi.c2ln") == "[redacted jwt]"
    assert redact("-----BEGIN PRIVATE KEY-----\nMIIB") == "[redacted key]"


def test_redact_removes_jwts_secrets_authorization_and_keys():
    text = ("Authorization: Basic dXNlcjpwYXNz client_secret=s3cr3t&x=1 "
            '{"access_token": "abc.def"} eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl '
            "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----")
    redacted = redact(text)
    for secret in ("dXNlcjpwYXNz", "s3cr3t", "abc.def", "eyJzdWIi", "MIIB"):
        assert secret not in redacted
    assert "x=1" in redacted
