"""The management bind (authserver.observability.management): /metrics is never served on the
public port; on its own bind, with a bearer token when METRICS_TOKEN is set; ``serve``
refuses a management bind it cannot use, in one line, before binding anything."""

from __future__ import annotations

import socket

import pytest
from werkzeug.test import Client

from authserver.cli.wsgi_server import parse_bind
from authserver.config import ConfigError
from authserver.observability.management import management_wsgi
from tests.cli_helpers import cli_error
from tests.factories import AppBackend, make_backend

TOKEN = "metrics-token-" + "m" * 32


def _exchange(client, clock):
    backend = AppBackend(client.application)
    return client.post("/realms/default/token", data=backend.exchange_form(
        backend.assertion(now=clock()), audience="chat-api"))


def test_the_public_port_serves_no_metrics(app, client):
    assert client.get("/metrics").status_code == 404


def test_the_management_bind_serves_the_apps_metrics_and_nothing_else(app, client, clock):
    make_backend(app)
    assert _exchange(client, clock).status_code == 200
    management = Client(management_wsgi(app))
    response = management.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert 'authserver_token_requests_total{grant="token_exchange",result="ok"} 1.0' in text
    assert 'authserver_signing_keys{realm="default",state="active"} 1.0' in text
    assert management.head("/metrics").status_code == 200
    assert management.get("/realms/default/token").status_code == 404
    assert management.post("/metrics").status_code == 404


def test_with_a_token_a_scrape_must_present_it(make_app):
    app = make_app(METRICS_TOKEN=TOKEN)
    management = Client(management_wsgi(app))
    refused = management.get("/metrics")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert management.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert management.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 401
    assert management.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


@pytest.mark.parametrize(("value", "expected"), [
    ("127.0.0.1:9100", ("127.0.0.1", 9100)), ("[::1]:9100", ("::1", 9100)),
    ("none", None), ("", None), (None, None)])
def test_parse_bind(value, expected):
    assert parse_bind(value) == expected


@pytest.mark.parametrize("value", ["9100", "host:", "host:99999", "host:port"])
def test_parse_bind_refuses(value):
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_bind(value)


@pytest.mark.parametrize(("key", "value"), [("METRICS_BIND", "9100"), ("METRICS_TOKEN", "short")])
def test_bad_settings_name_their_key(make_app, key, value):
    with pytest.raises(ConfigError, match=key):
        make_app(**{key: value})


def test_serve_refuses_the_public_bind_as_management_bind(runner):
    line = cli_error(runner, "serve", "--bind", "127.0.0.1:8123", "--metrics-bind", "127.0.0.1:8123")
    assert "--metrics-bind" in line and "public port" in line


def test_serve_refuses_a_management_bind_in_use(runner):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = cli_error(runner, "serve", "--bind", "127.0.0.1:0", "--metrics-bind", f"127.0.0.1:{port}")
    assert f"127.0.0.1:{port}" in line and "cannot be bound" in line


def test_serve_refuses_a_malformed_management_bind(runner):
    assert "HOST:PORT" in cli_error(runner, "serve", "--metrics-bind", "nine-one-hundred")
