"""JSON errors for every failure, in RFC 6749 §5.2 shape; never an HTML page or a traceback.

Every error answer first rolls the request's transaction back, so a request refused half
way leaves nothing written. Every database failure — a lost connection, a driver error, a
pool timeout, a connection that dies while the session is being closed after the response
— is 503 ``temporarily_unavailable`` with ``Retry-After``, never a 500.
"""

from __future__ import annotations

import contextlib
import logging

from authlib.oauth2.base import OAuth2Error
from flask import Flask, jsonify
from sqlalchemy.exc import DBAPIError, DisconnectionError, PendingRollbackError, ResourceClosedError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from authserver.errors import ServiceError, TemporarilyUnavailableError
from authserver.extensions import db

log = logging.getLogger(__name__)

_HTTP_ERROR_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large",
                     415: "unsupported_media_type", 429: "too_many_requests"}
#: Failures of the database or of the connection to it (never a client's mistake).
DATABASE_FAILURES = (DBAPIError, DisconnectionError, PoolTimeoutError, PendingRollbackError,
                     ResourceClosedError)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ServiceError, _service_error)
    app.register_error_handler(OAuth2Error, _oauth2_error)
    app.register_error_handler(HTTPException, http_error_answer)
    for failure in DATABASE_FAILURES:
        app.register_error_handler(failure, _database_unavailable_error)
    app.register_error_handler(Exception, _unexpected_error)
    # Runs before Flask-SQLAlchemy's own teardown (registered earlier, so run later): a
    # connection that died mid-request must not fail the request after its answer.
    app.teardown_appcontext(_remove_session_safely)


def _rollback() -> None:
    with contextlib.suppress(Exception):  # the connection may be gone; the session is discarded
        db.session.rollback()


def _remove_session_safely(_exc: BaseException | None) -> None:
    try:
        db.session.remove()
    except Exception as exc:  # noqa: BLE001 - a dead connection while closing: log and discard
        log.warning("database session closed with an error: %s", exc.__class__.__name__)


def _service_error(exc: ServiceError):
    _rollback()
    response = jsonify(exc.to_dict())
    response.status_code = exc.status_code
    if exc.status_code == 503:
        response.headers["Retry-After"] = "5"
    return response


def _oauth2_error(exc: OAuth2Error):
    """An RFC-named error raised by a view (RFC 6750, RFC 7591 …), with its own headers."""
    _rollback()
    status, body, headers = exc()
    response = jsonify(body)
    response.status_code = status
    for name, value in headers:
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def http_error_answer(exc: HTTPException):
    _rollback()
    code = exc.code or 500
    body = {"error": _HTTP_ERROR_CODES.get(code, "invalid_request" if code < 500 else "server_error"),
            "error_description": exc.description}
    response = jsonify(body)
    response.status_code = code
    for name, value in exc.get_headers():
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def database_unavailable(exc: Exception) -> None:
    """The database cannot serve: log it and roll back (nothing was committed)."""
    log.error("database unavailable: %s", exc.__class__.__name__)
    _rollback()


def _database_unavailable_error(exc: Exception):
    """The client may retry (RFC 6749 §5.2 ``temporarily_unavailable``)."""
    database_unavailable(exc)
    return _oauth2_error(TemporarilyUnavailableError(
        description="The service is temporarily unavailable; retry later."))


def _unexpected_error(exc: Exception):
    log.exception("unhandled error")
    _rollback()
    response = jsonify({"error": "server_error", "error_description": "internal error"})
    response.status_code = 500
    return response
