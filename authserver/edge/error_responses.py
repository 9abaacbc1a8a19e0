"""JSON errors for every failure, in RFC 6749 §5.2 shape; never an HTML page or a traceback."""

from __future__ import annotations

import logging

from authlib.oauth2.base import OAuth2Error
from flask import Flask, jsonify
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from authserver.errors import ServiceError, TemporarilyUnavailableError
from authserver.extensions import db

log = logging.getLogger(__name__)

_HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large",
                     415: "unsupported_media_type", 429: "too_many_requests"}


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(OAuth2Error, _oauth2_error)
    app.register_error_handler(HTTPException, _http_error)
    for database_down in (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError):
        app.register_error_handler(database_down, _database_unavailable)
    app.register_error_handler(Exception, _unexpected_error)


def _service_error(exc: ServiceError):
    response = jsonify(exc.to_dict())
    response.status_code = exc.status_code
    if exc.status_code == 503:
        response.headers["Retry-After"] = "5"
    return response


def _oauth2_error(exc: OAuth2Error):
    """An RFC-named error raised by a view (RFC 6750, RFC 7591 …), with its own headers."""
    status, body, headers = exc()
    response = jsonify(body)
    response.status_code = status
    for name, value in headers:
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def _http_error(exc: HTTPException):
    code = exc.code or 500
    body = {"error": _HTTP_ERROR_CODES.get(code, "invalid_request" if code < 500 else "server_error"),
            "error_description": exc.description}
    response = jsonify(body)
    response.status_code = code
    for name, value in exc.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def _database_unavailable(exc: Exception):
    """The database cannot be reached: nothing was committed (the transaction rolls back),
    and the client may retry (RFC 6749 §5.2 ``temporarily_unavailable``)."""
    log.error("database unavailable: %s", exc.__class__.__name__)
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 - the connection is gone; the session is discarded anyway
        pass
    return _oauth2_error(TemporarilyUnavailableError(
        description="The service is temporarily unavailable; retry later."))


def _unexpected_error(exc: Exception):
    log.exception("unhandled error")
    response = jsonify({"error": "server_error", "error_description": "internal error"})
    response.status_code = 500
    return response
