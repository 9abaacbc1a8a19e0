"""Several processes on one database: two ``authserver serve`` hosts on different ports,
concurrent first logins, concurrent ``jti`` replays, concurrent key rotations.

These are about the shared database. They run on SQLite as well (WAL + busy timeout make
writers queue), but the claim to prove is PostgreSQL's: run the suite with
``AUTHSERVER_TEST_DATABASE_URL`` (``.ci/run`` does).
"""

from __future__ import annotations

import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import func, select

from authserver import create_app
from authserver.extensions import db
from authserver.models import KeyState, SigningKey, User
from authserver.registry.realms import create_realm
from tests.conftest import TEST_SECRET, base_config
from tests.factories import AppBackend, basic_auth, make_backend, make_client
from tests.support.served import AUTHSERVER, Served

KEY_CACHE_SECONDS = 2


@pytest.fixture
def setup_app(database_url):
    """An app on the shared database with the real clock (the servers use the real clock)."""
    app = create_app(base_config(database_url))
    with app.app_context():
        create_realm("default")
    make_backend(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def server_env(database_url, tmp_path):
    return {"AUTHSERVER_INSTANCE_PATH": str(tmp_path / "instance"),
            "AUTHSERVER_SQLALCHEMY_DATABASE_URI": database_url,
            "AUTHSERVER_SECRET_KEY": TEST_SECRET, "AUTHSERVER_ISSUER_BASE_URL": "http://auth.test",
            "AUTHSERVER_KEY_CACHE_SECONDS": str(KEY_CACHE_SECONDS)}


@pytest.fixture
def hosts(setup_app, server_env):
    with Served(server_env, workers=2) as a, Served(server_env, workers=2) as b:
        yield a, b


def _exchange(url, backend, sub, assertion=None):
    form = backend.exchange_form(assertion or backend.assertion(sub=sub), audience="chat-api")
    return requests.post(f"{url}/realms/default/token", data=form, timeout=15)


def test_token_issued_by_one_host_is_introspected_and_revoked_by_the_other(setup_app, hosts):
    a, b = hosts
    backend = AppBackend(setup_app)
    checker = make_client(setup_app, client_id="chat-backend", name="chat backend",
                          auth_method="client_secret_basic", grant_types=["client_credentials"],
                          serves=["chat-api"])
    auth = basic_auth("chat-backend", checker["client_secret"])
    issued = _exchange(a.url, backend, "erin")
    assert issued.status_code == 200, issued.text
    token = issued.json()["access_token"]

    def introspect(host):
        response = requests.post(f"{host.url}/realms/default/introspect", data={"token": token},
                                 headers=auth, timeout=15)
        assert response.status_code == 200, response.text
        return response.json()

    assert introspect(b)["active"] is True and introspect(b)["sub"] == "erin"
    revoked = requests.post(f"{b.url}/realms/default/revoke", timeout=15, data={
        "token": token, "client_id": backend.client_id, "client_secret": backend.secret})
    assert revoked.status_code == 200, revoked.text
    assert introspect(a)["active"] is False
    assert introspect(b)["active"] is False


def test_key_rotated_through_one_host_is_published_by_both(setup_app, hosts, server_env):
    a, b = hosts
    before = {k["kid"] for k in requests.get(f"{a.url}/realms/default/jwks", timeout=5).json()["keys"]}
    rotated = subprocess.run([AUTHSERVER, "keys", "rotate", "--realm", "default", "--json"],
                             env={**os.environ, **server_env}, capture_output=True, text=True)
    assert rotated.returncode == 0, rotated.stderr
    deadline = time.monotonic() + KEY_CACHE_SECONDS + 3  # the cache period, and slack for scheduling
    published = {}
    while time.monotonic() < deadline and len(published) < 2:
        for host in (a, b):
            kids = {k["kid"] for k in requests.get(f"{host.url}/realms/default/jwks", timeout=5).json()["keys"]}
            if kids - before:
                published[host.url] = kids - before
        time.sleep(0.2)
    assert len(published) == 2 and len({frozenset(v) for v in published.values()}) == 1


def test_concurrent_first_logins_of_one_subject_create_one_user(setup_app, hosts):
    backend = AppBackend(setup_app)
    urls = [h.url for h in hosts] * 4
    with ThreadPoolExecutor(len(urls)) as pool:
        responses = list(pool.map(lambda url: _exchange(url, backend, "same-person"), urls))
    assert [r.status_code for r in responses] == [200] * len(urls), [r.text for r in responses]
    with setup_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_a_jti_replayed_concurrently_succeeds_once(setup_app, hosts):
    backend = AppBackend(setup_app)
    assertion = backend.assertion(sub="replayed")
    urls = [h.url for h in hosts] * 4
    with ThreadPoolExecutor(len(urls)) as pool:
        responses = list(pool.map(lambda url: _exchange(url, backend, None, assertion), urls))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [400] * (len(urls) - 1), [r.text for r in responses]


def test_concurrent_key_rotations_leave_one_active_key(setup_app, server_env):
    env = {**os.environ, **server_env}
    command = [AUTHSERVER, "keys", "rotate", "--realm", "default", "--json"]
    processes = [subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(4)]
    codes = [p.wait(timeout=60) for p in processes]
    for p in processes:
        p.stdout.close()
        p.stderr.close()
    assert sorted(codes) == [0, 2, 2, 2]  # one rotation; the others: "already pending"
    with setup_app.app_context():
        states = db.session.execute(select(SigningKey.state, func.count()).group_by(SigningKey.state)).all()
    assert dict(states) == {KeyState.ACTIVE: 1, KeyState.NEXT: 1}
