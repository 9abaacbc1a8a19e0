"""Faults: the database going away (503, no partial write, readiness fails, JWKS and
discovery answer from memory) and a stuck upstream IdP (bounded by timeouts)."""

from __future__ import annotations

import os
import shutil
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from authserver.extensions import db
from authserver.models import User
from authserver.registry import clients, idps
from authserver.registry.realms import create_realm, get_realm
from tests.factories import AppBackend, make_backend
from tests.support.tcp_proxy import BlackHole, TcpProxy


def _count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_database_failure_mid_request_is_503_and_writes_nothing(app, client, clock):
    make_backend(app)
    backend = AppBackend(app)

    def fail_on_link(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO IDENTITY_LINKS"):
            raise OperationalError(statement, {}, ConnectionError("server closed the connection"))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", fail_on_link)
    try:
        response = client.post("/realms/default/token", data=backend.exchange_form(
            backend.assertion(sub="first-login", now=clock()), audience="chat-api"))
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", fail_on_link)
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"] == "temporarily_unavailable"
    assert response.headers["Retry-After"]
    assert _count_users(app) == 0  # the user row inserted before the failure was rolled back


@pytest.fixture
def outage(database_url, tmp_path):
    """(url for the app, cut()): after cut() the database cannot be reached at all."""
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")

        def cut():
            shutil.move(path, path + ".away")
            os.mkdir(path)  # a directory where the file was: every new connection fails

        yield database_url, cut
    else:
        parts = urlsplit(database_url)
        proxy = TcpProxy(parts.hostname, parts.port or 5432)
        netloc = f"{parts.username}@127.0.0.1:{proxy.port}" if parts.username else f"127.0.0.1:{proxy.port}"
        yield urlunsplit(parts._replace(netloc=netloc)), proxy.cut
        proxy.cut()


def test_database_down_readyz_fails_jwks_and_discovery_answer_from_memory(make_app, outage, clock):
    url, cut = outage
    app = make_app(SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        create_realm("default")
    client = app.test_client()
    jwks = client.get("/realms/default/jwks").get_json()
    discovery = client.get("/realms/default/.well-known/openid-configuration").get_json()
    assert client.get("/readyz").status_code == 200

    cut()
    with app.app_context():
        db.engine.dispose()
    clock.advance(app.config["KEY_CACHE_SECONDS"] + 1)  # the key cache is due for a refresh
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert client.get("/realms/default/jwks").get_json() == jwks
    assert client.get("/realms/default/.well-known/openid-configuration").get_json() == discovery
    token = client.post("/realms/default/token", data={
        "grant_type": "client_credentials", "client_id": "x", "client_secret": "y"})
    assert token.status_code == 503
    assert token.get_json()["error"] == "temporarily_unavailable" and token.headers["Retry-After"]


def test_stuck_upstream_idp_is_503_within_the_timeout(make_app, clock):
    hole = BlackHole()
    app = make_app(UPSTREAM_CONNECT_TIMEOUT=0.5, UPSTREAM_READ_TIMEOUT=0.5)
    with app.app_context():
        realm = create_realm("default")
        idps.create_idp(realm, {"name": "stuck", "type": "oidc",
                                "config": {"issuer": hole.url, "client_ids": ["web"]}}, "test")
    make_backend(app)
    backend = AppBackend(app)
    with app.app_context():
        clients.update_client(get_realm("default"), backend.client_id, {"idps": ["stuck"]}, "test")
    key = ECKey.generate_key("P-256")
    now = int(clock())
    id_token = jwt.encode({"alg": "ES256", "kid": "k"}, {
        "iss": hole.url, "sub": "alice", "aud": "web", "iat": now, "exp": now + 300}, key)
    started = time.monotonic()
    try:
        response = app.test_client().post("/realms/default/token", data={
            **backend.exchange_form(id_token, audience="chat-api"),
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token"})
    finally:
        hole.close()
    elapsed = time.monotonic() - started
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"] == "temporarily_unavailable"
    assert elapsed < 5  # bounded by the 0.5 s timeouts, not by the upstream (a generous bound)


def _trickling_provider():
    """An OpenID Provider on loopback whose JWKS trickles out one byte every 0.2 s."""
    import json as jsonlib
    import socket
    import threading

    server = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{server.getsockname()[1]}"

    def answer(conn):
        with conn:
            request_line = conn.recv(65536).split(b"\r\n", 1)[0]
            if b"openid-configuration" in request_line:
                body = jsonlib.dumps({"issuer": url, "jwks_uri": f"{url}/jwks"}).encode()
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\n\r\n" + body)
                return
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n")
            for _ in range(5000):
                try:
                    conn.sendall(b" ")
                    time.sleep(0.2)
                except OSError:
                    return

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return url, server


def test_a_trickling_jwks_is_503_within_the_deadline(make_app, clock):
    url, server = _trickling_provider()
    app = make_app(UPSTREAM_CONNECT_TIMEOUT=1, UPSTREAM_READ_TIMEOUT=1, UPSTREAM_TOTAL_TIMEOUT=1.5)
    with app.app_context():
        realm = create_realm("default")
        idps.create_idp(realm, {"name": "slow", "type": "oidc", "config": {"issuer": url, "client_ids": ["web"]}},
                        "test")
    make_backend(app)
    backend = AppBackend(app)
    with app.app_context():
        clients.update_client(get_realm("default"), backend.client_id, {"idps": ["slow"]}, "test")
    now = int(clock())
    id_token = jwt.encode({"alg": "ES256", "kid": "k"}, {
        "iss": url, "sub": "alice", "aud": "web", "iat": now, "exp": now + 300}, ECKey.generate_key("P-256"))
    started = time.monotonic()
    try:
        response = app.test_client().post("/realms/default/token", data={
            **backend.exchange_form(id_token, audience="chat-api"),
            "subject_token_type": "urn:ietf:params:oauth:token-type:id_token"})
    finally:
        server.close()
    assert response.status_code == 503, response.get_json()
    assert time.monotonic() - started < 6  # the total deadline, not 5,000 bytes × 0.2 s


def test_a_connection_dying_before_teardown_is_not_a_500(app, client, make_app, database_url):
    """The session's connection is killed after the view answered, before Flask-SQLAlchemy's
    teardown closes the session: the answer stands (never a 500)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("needs PostgreSQL: a server-side connection that can be terminated")
    from sqlalchemy import create_engine, text

    from tests.cli_helpers import admin_token, bearer

    token = admin_token(app.test_cli_runner(), client)
    killer = create_engine(database_url)
    victim = make_app()

    @victim.after_request
    def kill_the_session_connection(response):
        pid = db.session.connection().connection.dbapi_connection.info.backend_pid
        with killer.begin() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        time.sleep(0.05)
        return response

    try:
        statuses = [victim.test_client().get("/admin/realms/default/clients", headers=bearer(token)).status_code
                    for _ in range(5)]
    finally:
        killer.dispose()
    assert 500 not in statuses and statuses[0] == 200, statuses


@pytest.mark.parametrize("path", ["/realms/default/authorize?client_id=web&response_type=code",
                                  "/realms/default/logout", "/console/realms/default/users"])
def test_a_page_answers_a_database_failure_with_a_page(app, client, path):
    """A person reading a page gets a page (503, Retry-After), not JSON, when the database fails."""
    def fail(conn, cursor, statement, *args):
        raise OperationalError(statement, {}, ConnectionError("server closed the connection"))

    client.set_cookie("authserver_console", "x" * 43, path="/console")
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", fail)
    try:
        response = client.get(path)
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", fail)
    assert response.status_code == 503, response.data[:300]
    assert response.mimetype == "text/html" and response.headers["Retry-After"]
    assert "temporarily unavailable" in response.get_data(as_text=True)
    assert "Content-Security-Policy" in response.headers
