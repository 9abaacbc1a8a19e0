"""``authserver worker``: deliver webhooks (:mod:`authserver.events.worker`)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("worker")
@click.option("--concurrency", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Deliveries attempted in parallel.")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@with_appcontext
def worker_command(concurrency: int, once: bool) -> None:
    """Deliver webhooks until SIGTERM (the round in flight finishes first)."""
    from authserver.events.worker import run_worker

    run_worker(current_app._get_current_object(), concurrency, once)
