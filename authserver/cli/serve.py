"""``authserver serve``: the production WSGI server (gunicorn, or granian).

The app is built once before the server starts, so a bad setting is one line and exit
status 2 and the port is never bound; each worker then builds its own.
"""

from __future__ import annotations

import click
from flask.cli import ScriptInfo, pass_script_info

from authserver.cli.wsgi_server import DEFAULT_SERVER, SERVERS


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="HOST:PORT to listen on.")
@click.option("--workers", type=click.IntRange(1, 256), default=2, show_default=True)
@click.option("--threads", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Threads per worker (gunicorn: gthread when > 1; granian: blocking threads).")
@click.option("--server", type=click.Choice(SERVERS), default=DEFAULT_SERVER, show_default=True,
              help="The WSGI server.")
@click.option("--with-worker", is_flag=True,
              help="Also run one webhook delivery worker beside the web workers (single host).")
@pass_script_info
def serve_command(info: ScriptInfo, bind: str, workers: int, threads: int, server: str,
                  with_worker: bool) -> None:
    """Serve the app with N worker processes; SIGTERM drains in-flight requests."""
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"expected HOST:PORT, got {bind!r}", param_hint="--bind")
    from authserver.cli.wsgi_server import run

    run(server, bind=bind, workers=workers, threads=threads, check_app=info.load_app, with_worker=with_worker)
