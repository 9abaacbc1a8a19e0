"""``authserver serve``: the production WSGI server (granian, or gunicorn).

The app is built once before the server starts, so a bad setting is one line and exit
status 2 and the port is never bound; each worker then builds its own. ``/metrics`` is
served on the management bind (``--metrics-bind``, ``METRICS_BIND``), never on ``--bind``.
"""

from __future__ import annotations

import click
from flask.cli import ScriptInfo, pass_script_info

from authserver.cli.wsgi_server import (
    DEFAULT_SERVER,
    DEFAULT_THREADS,
    SERVERS,
    check_free,
    default_workers,
    metrics_directory,
    parse_bind,
    run,
)


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="HOST:PORT to listen on.")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Worker processes.  [default: one per CPU core available, here "
                   f"{default_workers()}]")
@click.option("--threads", type=click.IntRange(1, 256), default=DEFAULT_THREADS, show_default=True,
              help="Threads per worker (granian: blocking threads; gunicorn: gthread when > 1).")
@click.option("--server", type=click.Choice(SERVERS), default=DEFAULT_SERVER, show_default=True,
              help="The WSGI server.")
@click.option("--metrics-bind", default=None, metavar="HOST:PORT|none",
              help="Where Prometheus /metrics is served (a management bind, not --bind).  "
                   "[default: METRICS_BIND, 127.0.0.1:9100]")
@click.option("--with-worker", is_flag=True,
              help="Also run one webhook delivery worker beside the web workers (single host).")
@pass_script_info
def serve_command(info: ScriptInfo, bind: str, workers: int | None, threads: int, server: str,
                  metrics_bind: str | None, with_worker: bool) -> None:
    """Serve the app with N worker processes; SIGTERM drains in-flight requests."""
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"expected HOST:PORT, got {bind!r}", param_hint="--bind")
    with metrics_directory():  # before the app is built: it imports prometheus_client
        app = info.load_app()
        chosen = metrics_bind if metrics_bind is not None else app.config["METRICS_BIND"]
        _check_metrics_bind(chosen, bind, "--metrics-bind" if metrics_bind is not None else "METRICS_BIND")
        run(server, bind=bind, workers=workers, threads=threads, check_app=lambda: app,
            with_worker=with_worker, metrics_bind=chosen or "none")


def _check_metrics_bind(value: str | None, bind: str, hint: str = "--metrics-bind") -> None:
    try:
        address = parse_bind(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None
    if address is None:
        return
    if value == bind:
        raise click.BadParameter("must differ from --bind: /metrics is never served on the public port",
                                 param_hint=hint)
    try:
        check_free(value)
    except OSError as exc:
        raise click.BadParameter(f"{value} cannot be bound ({exc.strerror or exc}): choose another "
                                 "HOST:PORT, or none", param_hint=hint) from None
