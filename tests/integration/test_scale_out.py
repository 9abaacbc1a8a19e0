"""Two hosts on one database, each with its own instance folder, as an operator scales out:
``authserver init`` on both, then the app each would serve.

With another SECRET_KEY the second host refuses (init and start-up alike, one line saying
where to copy the key from) and the first keeps working; with the same key both serve the
same JWKS and introspect each other's tokens. Like the multi-process tests these run on
SQLite too, but the claim is PostgreSQL's: run with ``AUTHSERVER_TEST_DATABASE_URL``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import pytest
from sqlalchemy import select

from authserver import create_app
from authserver.config import ConfigError
from authserver.crypto import key_fingerprint
from authserver.extensions import db
from authserver.models import Realm
from authserver.models.seal import DatabaseSeal
from tests.factories import AppBackend, basic_auth, make_backend, make_client

AUTHSERVER = [sys.executable, "-m", "authserver.cli"]
OTHER_KEY = "a-key-nobody-copied-" + "k" * 40


class Hosts:
    def __init__(self, database_url: str, tmp_path, monkeypatch):
        self.database_url, self.tmp_path, self.monkeypatch = database_url, tmp_path, monkeypatch
        self.apps = []

    def folder(self, name: str):
        return self.tmp_path / name

    def env(self, name: str) -> dict[str, str]:
        return {"AUTHSERVER_INSTANCE_PATH": str(self.folder(name)),
                "AUTHSERVER_SQLALCHEMY_DATABASE_URI": self.database_url,
                "AUTHSERVER_ISSUER_BASE_URL": "http://auth.test"}

    def init(self, name: str) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHSERVER_")} | self.env(name)
        return subprocess.run([*AUTHSERVER, "init"], env=env, capture_output=True, text=True, timeout=120)

    def serve(self, name: str) -> subprocess.CompletedProcess:
        """``authserver serve`` on host ``name``, expected to refuse before it binds."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHSERVER_", "PROMETHEUS_"))}
        process = subprocess.Popen([*AUTHSERVER, "serve", "--bind", "127.0.0.1:0", "--workers", "1"],
                                   env=env | self.env(name), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            stdout, stderr = process.communicate(timeout=10)
        return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)

    def app(self, name: str):
        """The app host ``name`` serves: its instance folder's config.py, the shared database."""
        for key, value in self.env(name).items():
            self.monkeypatch.setenv(key, value)
        app = create_app()
        self.apps.append(app)
        return app

    def key(self, name: str) -> str:
        scope: dict = {}
        exec((self.folder(name) / "config.py").read_text(), scope)
        return scope["SECRET_KEY"]

    def close(self):
        for app in self.apps:
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


@pytest.fixture
def hosts(database_url, tmp_path, monkeypatch):
    for name in [n for n in os.environ if n.startswith("AUTHSERVER_")]:
        monkeypatch.delenv(name)
    hosts = Hosts(database_url, tmp_path, monkeypatch)
    yield hosts
    hosts.close()


class Chat:
    """A chat backend, the app backend that exchanges its users' assertions, and the chat
    backend's own client that introspects (it serves the audience)."""

    def __init__(self, app):
        make_backend(app)
        self.backend = AppBackend(app)
        self.checker = make_client(app, client_id="chat-backend", name="chat backend",
                                   auth_method="client_secret_basic", grant_types=["client_credentials"],
                                   serves=["chat-api"])

    def token(self, app, sub: str) -> str:
        response = app.test_client().post("/realms/default/token", data=self.backend.exchange_form(
            self.backend.assertion(sub=sub), audience="chat-api"))
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    def introspect(self, app, token: str) -> dict:
        response = app.test_client().post("/realms/default/introspect", data={"token": token},
                                          headers=basic_auth("chat-backend", self.checker["client_secret"]))
        assert response.status_code == 200, response.get_json()
        return response.get_json()


def one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and '"level"' not in line]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_a_host_with_another_key_refuses_and_the_first_keeps_working(hosts):
    assert hosts.init("host1").returncode == 0
    host1 = hosts.app("host1")
    chat = Chat(host1)
    before = chat.token(host1, "alice")

    refused = one_line(hosts.init("host2"))  # a fresh folder: init would write a new key
    config2 = hosts.folder("host2") / "config.py"
    assert f"fingerprint {key_fingerprint(hosts.key('host1'))}" in refused
    assert "copy SECRET_KEY from the instance config.py of a host that serves it" in refused
    assert str(config2) in refused and "removed" in refused
    assert not config2.exists()  # no stray key left behind

    config2.write_text(f"SECRET_KEY = {OTHER_KEY!r}\n")  # a key, but not the one that seals the database
    assert "nothing was changed" in one_line(hosts.init("host2"))
    with pytest.raises(ConfigError) as start:
        hosts.app("host2")
    assert start.value.key == "SECRET_KEY" and str(config2) in str(start.value)
    served = one_line(hosts.serve("host2"))  # before it binds: one line, exit status 2
    assert served.startswith("Error: configuration error: SECRET_KEY: this database is sealed by another")

    with host1.app_context():
        assert db.session.scalars(select(Realm.name)).all() == ["default"]
        assert db.session.get(DatabaseSeal, 1).key_fingerprint == key_fingerprint(hosts.key("host1"))
    for app in (host1, hosts.app("host1")):  # the running host, and it restarted
        assert app.test_client().get("/readyz").status_code == 200
        assert chat.introspect(app, before)["active"] is True
        assert chat.introspect(app, chat.token(app, "bob"))["active"] is True


def test_hosts_sharing_the_key_serve_one_jwks_and_each_others_tokens(hosts):
    assert hosts.init("host1").returncode == 0
    hosts.folder("host2").mkdir()
    shutil.copy(hosts.folder("host1") / "config.py", hosts.folder("host2") / "config.py")
    second = hosts.init("host2")
    assert second.returncode == 0, second.stderr
    assert "realm default: already exists" in second.stdout

    host1, host2 = hosts.app("host1"), hosts.app("host2")
    chat = Chat(host1)
    jwks = host1.test_client().get("/realms/default/jwks").get_json()
    assert jwks == host2.test_client().get("/realms/default/jwks").get_json() and jwks["keys"]
    from_1, from_2 = chat.token(host1, "alice"), chat.token(host2, "bob")
    assert chat.introspect(host2, from_1)["sub"] == "alice"
    assert chat.introspect(host1, from_2)["sub"] == "bob"
    assert host2.test_client().get("/readyz").status_code == 200
