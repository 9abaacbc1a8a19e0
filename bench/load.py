"""Processes of the token endpoint benchmark: the servers under test (pinned to the server
core), and wrk (pinned to the load core) driving one of them with a file of POST bodies."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
LUA = os.path.join(HERE, "wrk_bodies.lua")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Cores:
    """Where servers and the load generator run: taskset prefixes, or none."""

    server: list[str]
    load: list[str]
    description: str

    @classmethod
    def detect(cls) -> Cores:
        available = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
        if shutil.which("taskset") and len(available) >= 2:
            server, load = str(available[0]), str(available[1])
            return cls(["taskset", "-c", server], ["taskset", "-c", load],
                       f"server on core {server}, load generator (wrk) on core {load} (taskset)")
        return cls([], [], "not pinned (taskset missing or a single core): server and load share the CPU")


class Server:
    """A server process (its own process group), reachable on 127.0.0.1:``port``."""

    def __init__(self, label: str, cmd: list[str], port: int, env: dict[str, str], ready_path: str,
                 log_path: str):
        self.label, self.port = label, port
        self._log = open(log_path, "ab")  # noqa: SIM115 - kept open for the process's life
        self.process = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_ready(ready_path, log_path)

    def _wait_ready(self, path: str, log_path: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label} exited at start-up; see {log_path}:\n{_tail(log_path)}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.label} did not become ready; see {log_path}")

    def rss_per_worker_mb(self) -> float:
        """The largest resident set among the worker processes (the leader when it is alone)."""
        out = subprocess.run(["ps", "-o", "pid=,rss=", "-g", str(self.process.pid)], capture_output=True,
                             text=True).stdout.split()
        rows = {int(out[i]): int(out[i + 1]) for i in range(0, len(out) - 1, 2)}
        workers = [rss for pid, rss in rows.items() if pid != self.process.pid] or list(rows.values())
        return max(workers, default=0) / 1024

    def cpu_seconds(self) -> float:
        """CPU time used so far by the process group (user + system, every process in it)."""
        out = subprocess.run(["ps", "-o", "pid=", "-g", str(self.process.pid)], capture_output=True,
                             text=True).stdout.split()
        ticks = 0
        for pid in out:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
            except (OSError, IndexError, ValueError):
                continue
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()


def _tail(path: str, lines: int = 15) -> str:
    with open(path, errors="replace") as f:
        return "".join(f.readlines()[-lines:])


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    wrapped: int
    sample: str | None
    rss_mb: float = 0.0
    cpu_ms: float = 0.0  # server CPU per successful request


def drive(cores: Cores, server: Server, path: str, bodies: list[str], seconds: float, connections: int) -> Result:
    """wrk, 1 thread, ``connections`` keep-alive connections, for ``seconds``. Only 200s
    count towards requests/s; the server's CPU time is divided by them too."""
    port = server.port
    with tempfile.NamedTemporaryFile("w", suffix=".bodies", delete=False) as f:
        f.write("\n".join(bodies) + "\n")
        bodies_file = f.name
    cpu_before = server.cpu_seconds()
    try:
        cmd = [*cores.load, "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
               "-s", LUA, f"http://127.0.0.1:{port}{path}", "--", path, bodies_file]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60).stdout
    finally:
        os.unlink(bodies_file)
    line = next((ln for ln in out.splitlines() if ln.startswith("WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    cpu = server.cpu_seconds() - cpu_before
    data = json.loads(line[4:])
    ok = data["requests"] - data["non200"]
    errors = data["non200"] + data["connect"] + data["read"] + data["write"] + data["timeout"]
    return Result(rps=ok / (data["duration_us"] / 1e6), p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
                  errors=errors, wrapped=data["wrapped"], sample=data["sample"], cpu_ms=cpu * 1000 / ok if ok else 0)


def check_tools() -> str | None:
    """One line saying what to install, or None."""
    missing = [tool for tool in ("wrk", "node") if shutil.which(tool) is None]
    if missing:
        hints = {"wrk": "apt-get install -y wrk", "node": "Node.js 20 or later"}
        return "missing: " + ", ".join(f"{tool} ({hints[tool]})" for tool in missing)
    package = os.path.join(HERE, "..", "tests", "support", "oidc_provider", "node_modules", "oidc-provider")
    if not os.path.isdir(package):
        return "missing: oidc-provider (npm ci --prefix tests/support/oidc_provider)"
    return None
