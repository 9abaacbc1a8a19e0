"""``authserver --help`` anywhere: the app is not built to list the commands."""

from __future__ import annotations

import os
import subprocess
import sys

import click

from authserver.cli import main
from authserver.cli.run import DEFAULT_PORT, DEVELOPMENT_URL, run_command

AUTHSERVER = os.path.join(os.path.dirname(sys.executable), "authserver")
COMMANDS = {"admin", "audit", "backends", "clients", "idps", "init", "keys", "plugins", "realms",
            "run", "serve", "usage", "users"}  # and every other command authserver registers


def run(tmp_path, *args):
    """The console script in a fresh environment, outside any instance folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTHSERVER_", "FLASK_"))}
    env["AUTHSERVER_INSTANCE_PATH"] = str(tmp_path / "nowhere")
    return subprocess.run([AUTHSERVER, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)


def listed_commands(help_text: str) -> set[str]:
    section = help_text.split("Commands:", 1)[1]
    return {line.split()[0] for line in section.splitlines() if line.startswith("  ") and line.split()}


def test_help_outside_an_instance_folder_lists_only_authservers_commands(tmp_path):
    result = run(tmp_path, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    listed = listed_commands(result.stdout)
    assert listed == {name for name, command in main.commands.items() if not command.hidden}
    assert listed >= COMMANDS and {"shell", "routes", "db"}.isdisjoint(listed)  # db: hidden
    assert "--env-file" not in result.stdout and "--app" not in result.stdout
    assert not (tmp_path / "nowhere").exists()  # the app (which makes the folder) was not built


def test_subcommand_help_and_the_hidden_db_group_work_without_an_app(tmp_path):
    for args in (("keys", "--help"), ("keys", "rotate", "--help"), ("db", "--help")):
        result = run(tmp_path, *args)
        assert result.returncode == 0 and result.stderr == "", (args, result.stderr)
    assert "upgrade" in run(tmp_path, "db", "--help").stdout


def test_no_flask_commands_or_options():
    assert {"shell", "routes"}.isdisjoint(main.commands)
    assert {opt for param in main.params for opt in param.opts} == {
        "--version", "--server", "--client-id", "--client-secret", "--realm-of-credentials"}  # remote admin
    migrations = main.get_command(click.Context(main), "db")
    assert isinstance(migrations, click.Group) and migrations.hidden and "upgrade" in migrations.commands


def test_serving_processes_never_load_alembic_or_the_other_server(tmp_path):
    """Alembic, its templates and their highlighter cost a worker ~11 MB: only `init`, `db` and
    the tests load them, never the CLI with an app (what `serve` forks its workers from), nor
    a granian worker (``worker_app``), which does not load gunicorn either (~1.5 MB)."""
    probe = ("import sys, authserver.cli; from authserver.cli.wsgi_server import worker_app; worker_app(); "
             "print(sorted(m for m in ('alembic', 'flask_migrate', 'mako', 'pygments', 'gunicorn') "
             "if m in sys.modules))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUTHSERVER_")}
    env["AUTHSERVER_INSTANCE_PATH"] = str(tmp_path)
    init = subprocess.run([sys.executable, "-m", "authserver.cli", "init"], env=env, capture_output=True, timeout=60)
    assert init.returncode == 0, init.stderr
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stdout + done.stderr


def test_run_listens_on_5000_by_default(runner):
    defaults = {param.name: param.default for param in run_command.params}
    assert (defaults["host"], defaults["port"]) == ("127.0.0.1", DEFAULT_PORT) == ("127.0.0.1", 5000)
    assert DEVELOPMENT_URL == "http://127.0.0.1:5000"
    result = runner.invoke(main, ["run", "--help"])
    assert result.exit_code == 0 and "default: 5000" in result.output
