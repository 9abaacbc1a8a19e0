"""README.md, executed: its walkthrough runs against a real server and a real upstream IdP.

Convention (README.md states it at the top of its Quickstart):

* every fenced block whose info string is exactly ``sh`` runs, in file order, in one bash
  session (``set -Eeuo pipefail``, ``inherit_errexit``), so a variable one block sets reaches
  the next; ``console``, ``python``, ``json``, ``yaml`` and untagged blocks are illustrative and
  skipped (a second host, a browser, vendor credentials, PostgreSQL, the benchmark, syntax
  summaries);
* what ``./scripts/run`` and a local upstream provide is started here and exported before the
  first block: ``AUTHSERVER`` (``authserver init`` then ``authserver run`` on a free loopback
  port, in a fresh instance folder named by ``AUTHSERVER_INSTANCE_PATH``, with
  ``AUTHSERVER_ROW_CACHE_SECONDS=0`` so a CLI change reaches it at once rather than within 5 s),
  ``UPSTREAM_ISSUER`` (``tests/support/oidc_provider``, npm ``oidc-provider``) and
  ``CHAT_BACKEND_PORT`` (a free port); the first block sets their defaults for a reader and
  activates ``.venv``, which is therefore left off ``PATH`` here;
* ``curl`` runs with ``--fail-with-body``, so an HTTP error status fails its block;
* the working directory is a fresh folder whose top-level entries link to the checkout's
  (``instance/`` excepted), so relative paths resolve and files the blocks write stay there.

A failure names the README.md line of the command that failed, then shows the output.
Background processes a block starts are stopped with the session's process group.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.support.served import free_port
from tests.support.upstream_idp import NPM_CI_HINT, PROVIDER_DIR, UpstreamIdP

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
VENV_BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```(\S*)\s*$")
EXECUTED = "sh"
NOT_MIRRORED = {"instance", ".git"}
WALKTHROUGH_TIMEOUT = 300

PRELUDE = """\
set -Eeuo pipefail
shopt -s inherit_errexit
curl() { command curl --fail-with-body "$@"; }
__walkthrough_failed() {
  local status=$?
  trap - ERR
  if [ "$BASH_SUBSHELL" -eq 0 ]; then  # else the command that ran the subshell fails and says so
    echo "walkthrough line ${BASH_LINENO[-1]}: exit status $status: $BASH_COMMAND" >&2
  fi
  exit "$status"
}
trap __walkthrough_failed ERR
"""
FAILED = re.compile(r"^walkthrough line (\d+): (.*)$", re.MULTILINE)


def shell_blocks(text: str) -> list[tuple[int, str]]:
    """``(line of the opening fence, code)`` for every ```sh block, in order."""
    blocks, info, start, body = [], None, 0, []
    for number, line in enumerate(text.splitlines(), 1):
        match = FENCE.match(line)
        if info is None and match:
            info, start, body = match.group(1), number, []
        elif info is not None and line.strip() == "```":
            if info == EXECUTED:
                blocks.append((start, "\n".join(body)))
            info = None
        elif info is not None:
            body.append(line)
    assert info is None, f"README.md:{start}: unclosed code fence"
    return blocks


class Walkthrough:
    """The blocks as one bash script, and which README line each of its lines comes from."""

    def __init__(self, blocks: list[tuple[int, str]]) -> None:
        lines, self._spans = PRELUDE.splitlines(), []
        for fence_line, code in blocks:
            self._spans.append((len(lines) + 1, fence_line + 1))
            lines.extend(code.splitlines())
        self.script = "\n".join(lines) + "\n"

    def readme_line(self, script_line: int) -> int | None:
        starts = [(start, first) for start, first in self._spans if start <= script_line]
        return starts[-1][1] + script_line - starts[-1][0] if starts else None

    def failure(self, output: str, readme: list[str]) -> str:
        found = FAILED.findall(output)
        if not found:
            return "(no failing command reported)"
        number = self.readme_line(int(found[-1][0]))
        if number is None:
            return found[-1][1]
        while number > 1 and readme[number - 2].rstrip().endswith("\\"):
            number -= 1  # bash names a continued command's last line: show its first
        return f"README.md:{number}: {readme[number - 1].strip()}  ({found[-1][1]})"


def mirror_checkout(target: Path) -> Path:
    target.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in NOT_MIRRORED:
            (target / entry.name).symlink_to(entry)
    return target


def clean_environment(instance: Path) -> dict[str, str]:
    """The caller's environment without authserver settings or the venv, plus a fresh instance."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AUTHSERVER_", "PROMETHEUS_")) and k != "VIRTUAL_ENV"}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and Path(p).resolve() != VENV_BIN.resolve())
    env.update(AUTHSERVER_INSTANCE_PATH=str(instance), AUTHSERVER_ROW_CACHE_SECONDS="0")
    return env


@contextmanager
def development_server(env: dict[str, str], cwd: Path, log: Path) -> Iterator[str]:
    """What ``./scripts/run`` does: ``authserver init``, then ``authserver run``."""
    authserver = str(VENV_BIN / "authserver")
    init = subprocess.run([authserver, "init"], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stdout + init.stderr
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        process = subprocess.Popen([authserver, "run", "--host", "127.0.0.1", "--port", str(port)],
                                   env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        _wait_ready(process, f"{url}/readyz", log)
        yield url
    finally:
        _stop_group(process)


def _wait_ready(process: subprocess.Popen, url: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"authserver run exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    pytest.fail(f"authserver run not ready at {url} within {timeout}s:\n{log.read_text()[-3000:]}")


def _stop_group(process: subprocess.Popen) -> None:
    """Stop the process group ``process`` leads: it, and whatever it left in the background."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            continue
        time.sleep(0.2)  # then SIGKILL what of the group is still there


def run_walkthrough(script: str, env: dict[str, str], cwd: Path, log: Path) -> int:
    with open(log, "wb") as out:
        process = subprocess.Popen(["bash", "-c", script], env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            return process.wait(timeout=WALKTHROUGH_TIMEOUT)
        except subprocess.TimeoutExpired:
            return -1
        finally:
            _stop_group(process)


def test_shell_blocks_are_found_in_order_and_failures_traced_to_their_line():
    text = "```sh\na\n```\n```console\nb\n```\n```\nc\n```\n```sh\nd\ne\n```\n"
    blocks = shell_blocks(text)
    assert blocks == [(1, "a"), (10, "d\ne")]
    walkthrough = Walkthrough(blocks)
    script_line = walkthrough.script.splitlines().index("e") + 1
    assert walkthrough.readme_line(script_line) == 12 and text.splitlines()[11] == "e"
    continued = Walkthrough([(1, "x \\\n  y")])
    failed = f"walkthrough line {continued.script.splitlines().index('  y') + 1}: exit status 2: x y"
    assert continued.failure(failed, ["```sh", "x \\", "  y", "```"]).startswith("README.md:2: x \\")


def _require_node() -> None:
    if shutil.which("node") is None or not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        pytest.skip(f"Node.js 20+ and the upstream IdP's npm modules are needed (`{NPM_CI_HINT}`)")


def test_the_provider_a_reader_starts_serves_and_logs_in():
    """The Quickstart's third terminal, and the helper the token exchange calls."""
    _require_node()
    port = free_port()
    command = [sys.executable, "-m", "tests.support.upstream_idp"]
    serve = subprocess.Popen([*command, "serve", "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        assert serve.stdout.readline().startswith(f"issuer: http://127.0.0.1:{port}")
        login = subprocess.run([*command, "login", "alice", "--issuer", f"http://127.0.0.1:{port}"],
                               cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert login.returncode == 0, login.stderr
        assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+\n", login.stdout)
    finally:
        _stop_group(serve)
        serve.stdout.close()


def test_readme_walkthrough_runs(tmp_path):
    if os.environ.get("AUTHSERVER_TEST_DATABASE_URL"):
        pytest.skip("the README walkthrough runs on the embedded SQLite default; the SQLite run covers it")
    _require_node()
    text = README.read_text(encoding="utf-8")
    walkthrough = Walkthrough(shell_blocks(text))
    assert walkthrough.script.strip() != PRELUDE.strip(), "README.md has no ```sh blocks"
    workdir = mirror_checkout(tmp_path / "checkout")
    env = clean_environment(tmp_path / "instance")
    log, server_log = tmp_path / "walkthrough.log", tmp_path / "server.log"
    with UpstreamIdP() as upstream, development_server(env, workdir, server_log) as base_url:
        env.update(AUTHSERVER=base_url, UPSTREAM_ISSUER=upstream.issuer, CHAT_BACKEND_PORT=str(free_port()))
        status = run_walkthrough(walkthrough.script, env, workdir, log)
    if status != 0:
        output = log.read_text(errors="replace")
        reason = f"timed out after {WALKTHROUGH_TIMEOUT}s" if status < 0 else f"exit status {status}"
        pytest.fail(f"README walkthrough {reason}: {walkthrough.failure(output, text.splitlines())}\n"
                    f"--- last output ---\n{output[-6000:]}\n"
                    f"--- server log ---\n{server_log.read_text(errors='replace')[-3000:]}", pytrace=False)
