"""``authserver serve``: the production WSGI server (gunicorn; granian selectable)."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--bind", default="127.0.0.1:8000", show_default=True, help="HOST:PORT to listen on.")
@click.option("--workers", type=click.IntRange(1, 256), default=2, show_default=True)
@click.option("--threads", type=click.IntRange(1, 256), default=1, show_default=True,
              help="Threads per worker (gunicorn gthread when > 1).")
def serve_command(bind: str, workers: int, threads: int) -> None:
    """Serve the app with gunicorn, N worker processes."""
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise click.BadParameter(f"expected HOST:PORT, got {bind!r}", param_hint="--bind")
    from authserver.wsgi_server import run_gunicorn

    run_gunicorn(bind=bind, workers=workers, threads=threads)
