"""``authserver serve`` with a bad setting: one line, exit status 2, and the port never bound."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

AUTHSERVER = os.path.join(os.path.dirname(sys.executable), "authserver")
GOOD_SECRET = "serve-test-secret-" + "x" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize(("setting", "key"), [
    ({"AUTHSERVER_JWKS_MAX_AGE": "abc"}, "JWKS_MAX_AGE"),
    ({"AUTHSERVER_SECRET_KEY": "too-short"}, "SECRET_KEY"),
])
def test_a_bad_setting_stops_serve_before_it_binds(tmp_path, setting, key):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHSERVER_", "PROMETHEUS_"))}
    env.update({"AUTHSERVER_INSTANCE_PATH": str(tmp_path), "AUTHSERVER_SECRET_KEY": GOOD_SECRET, **setting})
    port = free_port()
    process = subprocess.Popen([AUTHSERVER, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    listened = False
    deadline = time.monotonic() + 30
    try:
        while process.poll() is None and time.monotonic() < deadline:
            listened = listened or accepts(port)
            time.sleep(0.02)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 2, stderr
    assert stderr.splitlines() == [stderr.strip()] and f"configuration error: {key}" in stderr, stderr
    assert "Traceback" not in stderr and "Worker failed to boot" not in stderr and stdout == ""
    assert not listened and not accepts(port)
