"""The admin console at ``/console``: server-rendered pages over the same service functions
as the CLI and the admin API (see :mod:`authserver.console.web` for what every page shares,
:mod:`authserver.console.access` for signing in)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, g, request
from werkzeug.exceptions import HTTPException

from authserver.console import views_people, views_registry, views_session
from authserver.console.web import page
from authserver.edge.error_responses import DATABASE_FAILURES, database_unavailable, http_error_answer

#: The console's stylesheet: served by authserver, nothing from elsewhere.
static_blueprint = Blueprint("console_static", __name__, static_folder="../static",
                             static_url_path="/console/static")


def create_blueprint() -> Blueprint:
    parent = Blueprint("console", __name__, url_prefix="/console")
    for module in (views_session, views_registry, views_people):
        parent.register_blueprint(module.blueprint)
    parent.register_error_handler(HTTPException, _http_error)
    for code in (404, 405):  # raised while routing, before any blueprint is known
        parent.app_errorhandler(code)(_routing_error)
    for failure in DATABASE_FAILURES:
        parent.register_error_handler(failure, _database_unavailable)
    parent.add_app_template_filter(_console_time, "console_time")
    return parent


def _database_unavailable(exc: Exception):
    database_unavailable(exc)
    g.console = None  # the session could not be read: show no navigation
    response = page("error.html", 503, error="The service is temporarily unavailable; try again in a moment.")
    response.headers["Retry-After"] = "5"
    return response


def _console_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _routing_error(error: HTTPException):
    """No route (or not this method): under ``/console`` the console's page, else the JSON answer."""
    if request.path == "/console" or request.path.startswith("/console/"):
        return _http_error(error)
    return http_error_answer(error)


def _http_error(error: HTTPException):
    return page("error.html", error.code or 500, error=error.description or error.name)
