"""``authserver worker``: delivers webhooks, apart from the web processes.

Each round claims up to ``concurrency`` due deliveries (:func:`authserver.events.queue.claim`),
sends them in parallel threads, and records every outcome. SIGTERM (or SIGINT) stops the
loop after the round in flight: its attempts finish (each within ``WEBHOOK_TIMEOUT``) and
are recorded, claims not yet attempted are released. A worker killed outright loses
nothing: its claims expire after ``WEBHOOK_CLAIM_SECONDS`` and another worker retries them.

On PostgreSQL any number of workers share the queue; on SQLite they take turns (one lease).
:func:`worker_beside` runs one beside ``authserver serve`` (``serve --with-worker``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from authserver.browser.expiry import purge_expired
from authserver.events import queue
from authserver.events.delivery import Outcome
from authserver.events.runtime import webhook_runtime
from authserver.extensions import db

log = logging.getLogger(__name__)
PRUNE_INTERVAL = 600  # seconds between prunes of finished deliveries
STOP_TIMEOUT = 45  # seconds `worker_beside` waits for the worker to drain before killing it


class Worker:
    def __init__(self, app: Flask, concurrency: int = 1, name: str | None = None,
                 rand: Callable[[], float] = random.random):
        self.app, self.concurrency, self.rand = app, concurrency, rand
        self.name = name or f"{socket.gethostname()[:40]}:{os.getpid()}:{os.urandom(3).hex()}"
        self.stopping = threading.Event()
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="webhook")
        self._single = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
        self._last_prune = 0

    def _now(self) -> int:
        return int(self.app.extensions["authserver"].clock())

    def stop(self, *_signal_args) -> None:
        self.stopping.set()

    def run_once(self) -> int:
        """One round: claim what is due, deliver it, record it. Returns the number attempted."""
        with self.app.app_context():
            runtime = webhook_runtime(self.app)
            if self._single and not queue.acquire_lease(self.name, self._now(), runtime.settings.claim_seconds):
                return 0
            jobs = queue.claim(self.concurrency, runtime.settings, self._now())
            if self.stopping.is_set():
                queue.release(jobs)
                return 0
            outcomes = list(self._pool.map(lambda job: runtime.sender.send(job.url, job.body, job.headers), jobs))
            for job, outcome in zip(jobs, outcomes, strict=True):
                state = queue.record(job, outcome, runtime.settings, self._now(), self.rand)
                self._observe(job, outcome, state)
            self._maybe_prune(runtime.settings.retention)
            return len(jobs)

    def run(self) -> None:
        """Deliver until stopped; idle rounds wait ``WEBHOOK_POLL_SECONDS``."""
        poll = webhook_runtime(self.app).settings.poll_seconds
        log.info("webhook worker %s started (concurrency %d)", self.name, self.concurrency)
        try:
            while not self.stopping.is_set():
                if not self._round():
                    self.stopping.wait(poll)
        finally:
            self._finish()
        log.info("webhook worker %s stopped", self.name)

    def drain(self, max_rounds: int = 1000) -> int:
        """Deliver what is due now, then return (``authserver worker --once``, tests); the
        SQLite lease is given back at the end."""
        total = 0
        try:
            for _ in range(max_rounds):
                attempted = self._round()
                total += attempted
                if not attempted or self.stopping.is_set():
                    break
        finally:
            self._release_lease()
        return total

    def _round(self) -> int:
        try:
            return self.run_once()
        except SQLAlchemyError as exc:  # database unavailable: try again after the poll interval
            log.warning("webhook worker: database error %s", exc.__class__.__name__)
        except Exception:  # a bug or an unreadable secret: keep serving the other deliveries
            log.exception("webhook worker: round failed")
        with self.app.app_context(), contextlib.suppress(SQLAlchemyError):
            db.session.rollback()
        return 0

    def _finish(self) -> None:
        self._pool.shutdown(wait=True)
        self._release_lease()

    def _release_lease(self) -> None:
        if self._single:
            with self.app.app_context(), contextlib.suppress(SQLAlchemyError):
                queue.release_lease(self.name)

    def _maybe_prune(self, retention: int) -> None:
        now = self._now()
        if now - self._last_prune >= PRUNE_INTERVAL:
            queue.prune(now, retention)
            removed = purge_expired(now)
            if any(removed.values()):
                log.info("expired state deleted: %s", ", ".join(f"{n} {t}" for t, n in removed.items() if n))
            self._last_prune = now

    def _observe(self, job: queue.Job, outcome: Outcome, state: str | None) -> None:
        metrics = self.app.extensions.get("authserver.metrics")
        if metrics is not None:
            metrics.observe_webhook(outcome.result, state, outcome.duration_ms / 1000)
        log.info("webhook delivery %s: %s%s", job.delivery_id, outcome.result,
                 f" ({outcome.error})" if outcome.error else "")


def run_worker(app: Flask, concurrency: int = 1, once: bool = False) -> int:
    """The ``authserver worker`` process: SIGTERM and SIGINT stop it gracefully."""
    worker = Worker(app, concurrency)
    if once:
        try:
            return worker.drain()
        finally:
            worker._finish()
    signal.signal(signal.SIGTERM, worker.stop)
    signal.signal(signal.SIGINT, worker.stop)
    worker.run()
    return 0


def start_worker_process(concurrency: int = 1) -> subprocess.Popen:
    """Start ``authserver worker`` as a child process with this process's environment."""
    command = [sys.executable, "-m", "authserver.cli", "worker", "--concurrency", str(concurrency)]
    return subprocess.Popen(command)  # noqa: S603 - our own interpreter and arguments


def stop_worker_process(process: subprocess.Popen, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM, so the round in flight finishes; SIGKILL if it does not within ``timeout``
    (nothing is lost then either: its claims expire)."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def worker_beside(concurrency: int = 1) -> Iterator[subprocess.Popen]:
    """Run a webhook worker process for as long as the ``with`` block (``serve --with-worker``)."""
    process = start_worker_process(concurrency)
    try:
        yield process
    finally:
        stop_worker_process(process)
