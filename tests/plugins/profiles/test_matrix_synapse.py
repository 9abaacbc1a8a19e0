"""Integration: a real Synapse accepts our Matrix login JWTs (``org.matrix.login.jwt``).

Starts Synapse on loopback with SQLite in a temporary directory, registration off, and the
``jwt_config`` snippet our profile publishes; logs in with tokens we shaped and signed,
creates a room, sends a message, and shows that chat users differing only in case or
containing ``@``/``:`` become distinct Matrix users.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from authserver_plugins.profiles.matrix import MatrixProfile, localpart

from .helpers import sample_token, sign

pytest.importorskip("synapse", reason="matrix-synapse is not installed "
                    "(pip install 'matrix-synapse[jwt]')")
yaml = pytest.importorskip("yaml", reason="PyYAML (a matrix-synapse dependency) is missing")

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SERVER_NAME = "localhost"
ISSUER = "https://auth.example.test/realms/default"
AUDIENCE = "synapse-test"
START_TIMEOUT = 30.0
RELAXED = {"per_second": 1000, "burst_count": 1000}


class Synapse:
    def __init__(self, base_url: str, log: Path, process: subprocess.Popen):
        self.base_url, self.log, self.process = base_url, log, process

    def log_tail(self, lines: int = 60) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def call(self, method: str, path: str, body: Any = None, token: str | None = None,
             expect: int = 200) -> dict[str, Any]:
        status, answer = self.request(method, path, body, token)
        assert status == expect, (f"{method} {path}: {status} {answer}\n"
                                  f"--- Synapse log ---\n{self.log_tail()}")
        return answer

    def request(self, method: str, path: str, body: Any = None,
                token: str | None = None) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _write_config(directory: Path, profile: MatrixProfile, port: int) -> list[Path]:
    base = directory / "homeserver.yaml"
    subprocess.run([sys.executable, "-m", "synapse.app.homeserver", "--generate-config",
                    "--server-name", SERVER_NAME, "--config-path", str(base),
                    "--data-directory", str(directory), "--report-stats=no"],
                   cwd=directory, check=True, capture_output=True, timeout=60)
    log_config = directory / "log.yaml"
    log_config.write_text(json.dumps({
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
        "handlers": {"file": {"class": "logging.FileHandler", "formatter": "plain",
                              "filename": str(directory / "synapse.log")}},
        "root": {"level": "INFO", "handlers": ["file"]},
    }))
    override = directory / "override.yaml"
    override.write_text(json.dumps(_override(port, log_config)
                                   | yaml.safe_load(profile.public_info()["jwt_config"])))
    return [base, override]


def _override(port: int, log_config: Path) -> dict[str, Any]:
    return {
        "listeners": [{"port": port, "bind_addresses": ["127.0.0.1"], "type": "http",
                       "tls": False, "x_forwarded": False,
                       "resources": [{"names": ["client"], "compress": False}]}],
        "enable_registration": False,
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "log_config": str(log_config),
        "rc_login": {"address": RELAXED, "account": RELAXED, "failed_attempts": RELAXED},
        "rc_registration": RELAXED,
        "rc_message": RELAXED,
    }


def _wait_ready(server: Synapse) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"Synapse exited with {server.process.returncode}\n{server.log_tail()}")
        try:
            if server.request("GET", "/_matrix/client/versions")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"Synapse not ready after {START_TIMEOUT:.0f}s\n{server.log_tail()}")


@pytest.fixture(scope="module")
def profile() -> MatrixProfile:
    credential = MatrixProfile.generate_credential() | {
        "issuer": ISSUER, "audience": AUDIENCE, "server_name": SERVER_NAME}
    return MatrixProfile(MatrixProfile.validate_credential(credential))


@pytest.fixture(scope="module")
def synapse(profile, tmp_path_factory):
    directory = tmp_path_factory.mktemp("synapse")
    port = _free_port()
    configs = _write_config(directory, profile, port)
    args = [sys.executable, "-m", "synapse.app.homeserver"]
    for config in configs:
        args += ["-c", str(config)]
    with open(directory / "stdout.log", "wb") as out:
        process = subprocess.Popen(args, cwd=directory, stdout=out, stderr=subprocess.STDOUT)
    server = Synapse(f"http://127.0.0.1:{port}", directory / "synapse.log", process)
    try:
        _wait_ready(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _login(synapse: Synapse, profile: MatrixProfile, subject: str, **extra: Any) -> dict:
    token = sign(profile.shape(sample_token(subject=subject, **extra)))
    return synapse.call("POST", "/_matrix/client/v3/login",
                        {"type": "org.matrix.login.jwt", "token": token})


def test_login_create_room_and_send_a_message(synapse, profile):
    login = _login(synapse, profile, "alice")
    assert login["user_id"] == f"@alice:{SERVER_NAME}"
    access = login["access_token"]
    room = synapse.call("POST", "/_matrix/client/v3/createRoom", {"name": "support"},
                        token=access)["room_id"]
    path = f"/_matrix/client/v3/rooms/{room}/send/m.room.message/{uuid.uuid4().hex}"
    sent = synapse.call("PUT", path, {"msgtype": "m.text", "body": "hello"}, token=access)
    assert sent["event_id"].startswith("$")
    profile_path = f"/_matrix/client/v3/profile/{login['user_id']}/displayname"
    assert synapse.call("GET", profile_path, token=access)["displayname"] == "Alice Liddell"


def test_distinct_chat_users_become_distinct_matrix_users(synapse, profile):
    subjects = ["bob", "Bob", "BOB", "bob@example.com", "bob:example.com", "@bob:example.com",
                "_bob", "Zoë", "4242"]
    user_ids = [_login(synapse, profile, s)["user_id"] for s in subjects]
    assert user_ids == [f"@{localpart(s)}:{SERVER_NAME}" for s in subjects]
    assert len(set(user_ids)) == len(subjects)


def test_same_chat_user_logs_into_the_same_matrix_user(synapse, profile):
    first = _login(synapse, profile, "Carol")
    second = _login(synapse, profile, "Carol")
    assert first["user_id"] == second["user_id"] and first["device_id"] != second["device_id"]


def test_token_signed_with_another_key_is_refused(synapse):
    other = MatrixProfile(MatrixProfile.generate_credential() | {
        "issuer": ISSUER, "audience": AUDIENCE})
    token = sign(other.shape(sample_token(subject="mallory")))
    status, answer = synapse.request("POST", "/_matrix/client/v3/login",
                                     {"type": "org.matrix.login.jwt", "token": token})
    assert (status, answer.get("errcode")) == (403, "M_FORBIDDEN")
