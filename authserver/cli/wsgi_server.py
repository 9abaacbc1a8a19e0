"""Running the app from ``authserver serve``: granian (Rust HTTP server, WSGI interface; the
default) or gunicorn (sync or gthread workers). Both drain in-flight requests on SIGTERM.

The defaults come from ``bench/token_endpoint.py`` (README: Performance): granian, one worker
process per CPU core this process may run on, :data:`DEFAULT_THREADS` threads per worker,
HTTP/1.1 keep-alive (granian keeps connections open; gunicorn's gthread workers for
:data:`KEEP_ALIVE_SECONDS`; its sync workers close each one).

Metrics are multi-process: :func:`prepare_metrics_dir` points ``PROMETHEUS_MULTIPROC_DIR``
at a fresh directory before any worker starts, so every worker writes its samples there, and
the management bind (:mod:`authserver.observability.management`) serves them all.

Before the server binds its port, :func:`run` builds the app once (``check_app``): a bad
setting stops start-up with its one-line message instead of failing in every worker.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator

from flask import Flask

from authserver import create_app
from authserver.events.worker import worker_beside

SERVERS = ("granian", "gunicorn")
DEFAULT_SERVER = "granian"  # README: Performance (per core: granian 1 worker ahead of gunicorn in every case)
DEFAULT_THREADS = 4  # as fast as 1 on the CPU-bound token path, and a slow upstream IdP blocks only one
KEEP_ALIVE_SECONDS = 5
GRACEFUL_TIMEOUT = 30


def parse_bind(value: str | None) -> tuple[str, int] | None:
    """``HOST:PORT`` → (host, port); None for "no bind" (None, "", ``none``, ``off``)."""
    if value is None or value.strip().lower() in ("", "none", "off"):
        return None
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def check_free(bind: str | None) -> None:
    """Raise ``OSError`` when ``bind`` cannot be bound (checked before serving, so a port in
    use is one clear line, not a child process dying quietly)."""
    address = parse_bind(bind)
    if address is None:
        return
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)


def default_workers() -> int:
    """One worker process per CPU core this process may run on (its affinity, e.g. under
    ``taskset`` or a container's cpuset): more processes than cores only add switching."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


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


@contextlib.contextmanager
def metrics_directory() -> Iterator[str]:
    """:func:`prepare_metrics_dir` for the ``with`` block; a temporary one is removed after it.
    It must come before anything imports prometheus_client (the app does), which decides
    then where samples go."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    path = prepare_metrics_dir()
    try:
        yield path
    finally:
        if configured is None:
            os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
            shutil.rmtree(path, ignore_errors=True)


def worker_app() -> Flask:
    """The app of one worker process, built there; then what start-up allocated is moved out
    of the garbage collector's sight (``gc.freeze``), so the collections that requests
    trigger walk only what requests allocate."""
    app = create_app()
    gc.collect()  # what start-up left unreachable is freed, not frozen
    gc.freeze()
    return app


def _gunicorn_app(options: dict):
    """gunicorn's application, built where gunicorn runs: a granian worker, which imports this
    module for :func:`worker_app`, never loads gunicorn (about 1.5 MB per worker)."""
    from gunicorn.app.base import BaseApplication

    class GunicornApp(BaseApplication):
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return worker_app()

    return GunicornApp()


def _child_exit(_server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def run_gunicorn(bind: str, workers: int, threads: int = 1) -> None:
    options = {
        "bind": bind, "workers": workers, "threads": threads,
        "worker_class": "gthread" if threads > 1 else "sync",
        "graceful_timeout": GRACEFUL_TIMEOUT, "timeout": 30, "keepalive": KEEP_ALIVE_SECONDS,
        "accesslog": None, "preload_app": False, "child_exit": _child_exit,
    }
    _gunicorn_app(options).run()


def run_granian(bind: str, workers: int, threads: int = 1) -> None:
    from granian.constants import Interfaces
    from granian.server import Server

    host, _, port = bind.rpartition(":")
    Server("authserver.cli.wsgi_server:worker_app", factory=True, address=host, port=int(port),
           interface=Interfaces.WSGI, workers=workers, blocking_threads=threads,
           backlog=2048, log_access=False, respawn_failed_workers=True,
           workers_kill_timeout=GRACEFUL_TIMEOUT).serve()


def check_before_start(build_app: Callable[[], Flask]) -> Flask:
    """Build the app (validating every setting), then drop its database connections: the
    workers, forked from this process, each build their own. Returns the app (its config)."""
    from authserver.extensions import db

    app = build_app()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    return app


def run(server: str, bind: str, workers: int | None = None, threads: int = DEFAULT_THREADS,
        check_app: Callable[[], Flask] | None = None, with_worker: bool = False,
        metrics_bind: str | None = None) -> None:
    """Serve, inside :func:`metrics_directory`; with ``with_worker``, one webhook delivery
    worker runs beside the web workers (the single-host default), stopped with them.
    ``/metrics`` is served on the management bind (``metrics_bind``, else the app's
    ``METRICS_BIND``), never on ``bind``."""
    # prometheus_client decides where samples go when it is first imported: inside the block
    from authserver.observability import management

    app = check_before_start(check_app) if check_app is not None else None
    if metrics_bind is None:
        metrics_bind = app.config["METRICS_BIND"] if app is not None else None
    with worker_beside(concurrency=1) if with_worker else contextlib.nullcontext(), \
            management.beside(metrics_bind):
        (run_granian if server == "granian" else run_gunicorn)(bind, workers or default_workers(), threads)
