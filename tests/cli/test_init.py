"""``authserver init`` in a fresh instance folder, run as a real subprocess."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

AUTHSERVER = [sys.executable, "-m", "authserver.cli"]


def run(instance, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHSERVER_")}
    env["AUTHSERVER_INSTANCE_PATH"] = str(instance)
    return subprocess.run([*AUTHSERVER, *args], env=env, capture_output=True, text=True, timeout=60)


def test_init_is_idempotent_and_writes_a_private_config(tmp_path):
    first = run(tmp_path, "init")
    assert first.returncode == 0, first.stderr
    assert "alembic" not in first.stderr and "Running upgrade" not in first.stderr  # its own summary only
    config = tmp_path / "config.py"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    for database in tmp_path.glob("authserver.db*"):  # users' emails and names: private too (-wal, -shm)
        assert stat.S_IMODE(database.stat().st_mode) == 0o600, database
    assert (tmp_path / "authserver.db").exists()
    secret_line = config.read_text()
    second = run(tmp_path, "init")
    assert second.returncode == 0, second.stderr
    assert "already exists" in second.stdout
    assert config.read_text() == secret_line  # secrets are not regenerated
    keys = json.loads(run(tmp_path, "keys", "list", "--realm", "default", "--json").stdout)
    assert [(k["state"], k["alg"]) for k in keys] == [("active", "ES256")]


def test_init_json(tmp_path):
    first = run(tmp_path, "init", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"instance_config": str(tmp_path / "config.py"), "realm": "default",
                                        "realm_created": True}
    assert json.loads(run(tmp_path, "init", "--json").stdout)["realm_created"] is False


def test_commands_before_init_fail_with_one_line(tmp_path):
    result = run(tmp_path, "realms", "list")
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_version(tmp_path):
    result = run(tmp_path, "--version")
    assert result.returncode == 0 and "authserver, version" in result.stdout
