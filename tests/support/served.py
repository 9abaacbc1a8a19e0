"""``authserver serve`` in a subprocess on a free loopback port, for tests that need real
worker processes (several hosts on one database, SIGTERM draining)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import requests

AUTHSERVER = os.path.join(os.path.dirname(sys.executable), "authserver")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    def __init__(self, env: dict[str, str], server: str = "gunicorn", workers: int = 2,
                 threads: int = 1, extra: tuple[str, ...] = ()):
        self.port, self.metrics_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"  # the management bind
        full_env = {**os.environ, "AUTHSERVER_LOG_LEVEL": "WARNING", **env}
        full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.process = subprocess.Popen(
            [AUTHSERVER, "serve", "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
             "--threads", str(threads), "--server", server,
             "--metrics-bind", f"127.0.0.1:{self.metrics_port}", *extra],
            env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"authserver serve exited: {self.process.stderr.read().decode()[-2000:]}")
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):  # bound, workers still booting
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("authserver serve did not become ready")

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process.stderr:
            self.process.stderr.close()

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
