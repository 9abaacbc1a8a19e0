"""The management bind: Prometheus ``/metrics`` on an address of its own, never on the
public port (as Keycloak serves metrics on its management port).

``authserver serve`` runs it beside the web workers, as a process of its own, on
``METRICS_BIND`` (default ``127.0.0.1:9100``; ``serve --metrics-bind`` overrides it, ``none``
turns it off). It aggregates every worker's samples (``PROMETHEUS_MULTIPROC_DIR``) and reads
the scrape-time gauges (keys by state, the webhook queue) from the database. With
``METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer <token>`` (for a management
bind that is not loopback-only).

Only ``GET``/``HEAD /metrics`` is served; anything else is 404.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from flask import Flask
from prometheus_client import CONTENT_TYPE_LATEST

from authserver import create_app
from authserver.cli.wsgi_server import parse_bind
from authserver.extensions import db

log = logging.getLogger(__name__)
STOP_TIMEOUT = 10.0


def management_wsgi(app: Flask) -> Callable:
    """The WSGI application of the management bind, over ``app``'s metrics and database."""
    token = app.config.get("METRICS_TOKEN")

    def application(environ: dict, start_response) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/metrics" or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _answer(start_response, "404 Not Found", b"not found\n")
        if token and not _bearer_matches(environ.get("HTTP_AUTHORIZATION"), token):
            return _answer(start_response, "401 Unauthorized", b"a bearer token is required\n",
                           [("WWW-Authenticate", 'Bearer realm="metrics"')])
        with app.app_context():
            try:
                body = app.extensions["authserver.metrics"].exposition()
            finally:
                db.session.remove()
        return _answer(start_response, "200 OK", b"" if environ["REQUEST_METHOD"] == "HEAD" else body,
                       content_type=CONTENT_TYPE_LATEST)

    return application


def _bearer_matches(header: str | None, token: str) -> bool:
    scheme, _, presented = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


def _answer(start_response, status: str, body: bytes, headers: list | None = None,
            content_type: str = "text/plain; charset=utf-8") -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store"), *(headers or [])])
    return [body]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # scrapes are not access-logged
        pass


def serve(app: Flask, bind: str) -> None:
    """Serve the management bind until SIGTERM or SIGINT (the process of :func:`beside`)."""
    host, port = parse_bind(bind)
    server = make_server(host, port, management_wsgi(app), server_class=_Server6 if ":" in host else _Server,
                         handler_class=_QuietHandler)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    log.info("metrics on http://%s:%d/metrics", host, port)
    stop.wait()
    server.shutdown()
    server.server_close()


@contextlib.contextmanager
def beside(bind: str | None) -> Iterator[subprocess.Popen | None]:
    """Run the management bind as a child process (this process's environment, so it reads
    the workers' metrics directory) for as long as the ``with`` block; nothing when ``bind``
    is off."""
    if parse_bind(bind) is None:
        yield None
        return
    command = [sys.executable, "-m", "authserver.observability.management", bind]
    process = subprocess.Popen(command)  # noqa: S603 - our own interpreter and arguments
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def main(argv: list[str]) -> None:
    serve(create_app(), argv[0])


if __name__ == "__main__":
    main(sys.argv[1:])
