"""Observability: request ids, structured JSON logs with secrets redacted, and Prometheus
metrics (multi-process safe under gunicorn and granian), served on the management bind
(:mod:`authserver.observability.management`), never on the public port."""

from __future__ import annotations

import os
import time

from flask import Flask, current_app, g, request

from authserver.observability.logs import access_log, configure_logging
from authserver.observability.metrics import Metrics

__all__ = ["configure_logging", "init_app"]

REQUEST_ID_HEADER = "X-Request-ID"
_MAX_REQUEST_ID = 128
_REQUEST_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-")


def init_app(app: Flask) -> None:
    """Request ids, access log and metrics for every request; logging unless testing."""
    if not app.testing:
        configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    metrics = Metrics()
    app.extensions["authserver.metrics"] = metrics
    app.extensions["authserver"].http.observer = metrics.observe_upstream
    app.before_request(_start_request)
    app.after_request(_finish_request)


def _start_request() -> None:
    g.request_started = time.perf_counter()
    g.request_id = _accepted_request_id(request.headers.get(REQUEST_ID_HEADER)) or os.urandom(16).hex()


def _finish_request(response):
    request_id = g.get("request_id")
    if request_id:
        response.headers[REQUEST_ID_HEADER] = request_id
    started = g.get("request_started")
    elapsed = time.perf_counter() - started if started is not None else 0.0
    endpoint = request.url_rule.endpoint if request.url_rule else "unmatched"
    current_app.extensions["authserver.metrics"].observe_request(endpoint, response, elapsed)
    access_log(response.status_code, elapsed)
    return response


def _accepted_request_id(value: str | None) -> str | None:
    """A caller's request id, when it is short and made of safe characters."""
    if value and len(value) <= _MAX_REQUEST_ID and _REQUEST_ID_CHARS.issuperset(value):
        return value
    return None
