"""Running the app from ``authserver serve``: gunicorn (sync or gthread workers) or granian
(Rust HTTP server, WSGI interface). Both drain in-flight requests on SIGTERM.

Metrics are multi-process: :func:`prepare_metrics_dir` points ``PROMETHEUS_MULTIPROC_DIR``
at a fresh directory before any worker starts, so every worker writes its samples there.

Before the server binds its port, :func:`run` builds the app once (``check_app``): a bad
setting stops start-up with its one-line message instead of failing in every worker.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import Callable

from flask import Flask
from gunicorn.app.base import BaseApplication

SERVERS = ("granian", "gunicorn")
DEFAULT_SERVER = "gunicorn"  # the token exchange ran faster under gunicorn sync in bench/ (README: Benchmark)
GRACEFUL_TIMEOUT = 30


def prepare_metrics_dir() -> str:
    """A fresh, empty multiprocess directory (the configured one is emptied first)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)
        for name in os.listdir(path):
            if name.endswith(".db"):
                os.remove(os.path.join(path, name))
    else:
        path = tempfile.mkdtemp(prefix="authserver-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
    return path


class _GunicornApp(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return worker_app()


def worker_app() -> Flask:
    """The app of one worker process, built there; then what start-up allocated is moved out
    of the garbage collector's sight (``gc.freeze``), so the collections that requests
    trigger walk only what requests allocate."""
    from authserver import create_app

    app = create_app()
    gc.freeze()
    return app


def _child_exit(_server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def run_gunicorn(bind: str, workers: int, threads: int = 1) -> None:
    options = {
        "bind": bind, "workers": workers, "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "graceful_timeout": GRACEFUL_TIMEOUT, "timeout": 30, "keepalive": 5,
        "accesslog": None, "preload_app": False, "child_exit": _child_exit,
    }
    _GunicornApp(options).run()


def run_granian(bind: str, workers: int, threads: int = 1) -> None:
    from granian.constants import Interfaces
    from granian.server import Server

    host, _, port = bind.rpartition(":")
    Server("authserver.cli.wsgi_server:worker_app", factory=True, address=host, port=int(port),
           interface=Interfaces.WSGI, workers=workers, blocking_threads=threads,
           backlog=2048, log_access=False, respawn_failed_workers=True,
           workers_kill_timeout=GRACEFUL_TIMEOUT).serve()


def check_before_start(build_app: Callable[[], Flask]) -> None:
    """Build the app (validating every setting), then drop its database connections: the
    workers, forked from this process, each build their own."""
    from authserver.extensions import db

    app = build_app()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


def run(server: str, bind: str, workers: int, threads: int = 1,
        check_app: Callable[[], Flask] | None = None, with_worker: bool = False) -> None:
    """Serve; with ``with_worker``, one webhook delivery worker runs beside the web workers
    (the single-host default), stopped with them."""
    import contextlib

    from authserver.events.worker import worker_beside

    metrics_dir = prepare_metrics_dir()  # first: the app's metrics must see the directory
    try:
        if check_app is not None:
            check_before_start(check_app)
        with worker_beside(concurrency=1) if with_worker else contextlib.nullcontext():
            (run_granian if server == "granian" else run_gunicorn)(bind, workers, threads)
    finally:
        if metrics_dir.startswith(tempfile.gettempdir()) and "authserver-metrics-" in metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)
