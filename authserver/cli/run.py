"""``authserver run``: Flask's development server (one process; ``serve`` is for production).

Listens on http://127.0.0.1:5000 unless told otherwise: the address ``scripts/run`` uses and
the one ``authserver admin bootstrap`` prints when ``ISSUER_BASE_URL`` is not set. The app is
built before the port is bound, so a bad setting is one line and exit status 2.
"""

from __future__ import annotations

import click
from flask.cli import ScriptInfo
from flask.cli import run_command as flask_run_command

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5000
DEVELOPMENT_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"


def _run(host: str, port: int, **flask_options) -> None:
    ctx = click.get_current_context()
    ctx.ensure_object(ScriptInfo).load_app()
    ctx.invoke(flask_run_command, host=host, port=port, **flask_options)


run_command = click.Command(
    "run", callback=_run, short_help="Run the development server.",
    help="Run the development server (--reload, --debugger, --debug as in `flask run`). "
         "For production use `authserver serve`.",
    params=[
        click.Option(["--host", "-h"], default=DEFAULT_HOST, show_default=True,
                     help="Interface to listen on."),
        click.Option(["--port", "-p"], type=click.IntRange(1, 65535), default=DEFAULT_PORT,
                     show_default=True, help="Port to listen on."),
        # Flask's own options (--debug, --reload, --debugger, --cert, ...), unchanged.
        *(param for param in flask_run_command.params if param.name not in ("host", "port")),
    ])
