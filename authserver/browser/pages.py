"""What a person sees: authserver's own pages, cookies and answers to the browser.

Every page is served with ``Content-Security-Policy`` (no inline script, nothing from
another origin, ``frame-ancestors 'none'``) and ``X-Frame-Options: DENY`` (RFC 9700 §4.16),
``Cache-Control: no-store`` and ``Referrer-Policy: no-referrer``, so no code, state or token
leaks through a cache or a ``Referer``. Cookies are per realm (``Path=/realms/{r}/``),
``HttpOnly``, ``SameSite=Lax``, and ``Secure`` except on plain-http loopback. Forms carry a
CSRF token bound to the browser's cookie (HMAC under the server key).
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, redirect, render_template, request

from authserver.crypto import new_secret
from authserver.edge.error_responses import DATABASE_FAILURES, database_unavailable
from authserver.registry.validation import is_loopback_host
from authserver.state import RealmContext

LOGIN_COOKIE = "authserver_login"  # binds an in-flight login to this browser
SESSION_COOKIE = "authserver_session"  # single sign-on across the realm's clients
#: The pages' stylesheet and the form_post script: served by authserver, nothing from elsewhere.
static_blueprint = Blueprint("browser_static", __name__, static_folder="../static",
                             static_url_path="/static/browser")
CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self' {targets}; "
       "frame-ancestors 'none'; base-uri 'none'")


def secured(response: Response, form_targets: str = "") -> Response:
    response.headers["Content-Security-Policy"] = CSP.format(targets=form_targets).replace("  ", " ")
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def page(template: str, status: int = 200, form_targets: str = "", **context) -> Response:
    response = Response(render_template(f"browser/{template}", **context), status=status,
                        mimetype="text/html")
    return secured(response, form_targets)


def error_page(ctx: RealmContext, error: str, description: str, status: int = 400) -> Response:
    return page("error.html", status, error=error, description=description, realm_title=realm_title(ctx))


def database_unavailable_page(exc: Exception) -> Response:
    """A page's answer when the database cannot serve: a page, not JSON (a person is reading),
    503 with ``Retry-After``, the transaction rolled back (:func:`database_unavailable`)."""
    database_unavailable(exc)
    response = page("error.html", 503, error="temporarily_unavailable",
                    description="The service is temporarily unavailable; try again in a moment.", realm_title="")
    response.headers["Retry-After"] = "5"
    return response


def answer_pages_when_the_database_fails(blueprint: Blueprint) -> None:
    for failure in DATABASE_FAILURES:
        blueprint.register_error_handler(failure, database_unavailable_page)


def realm_title(ctx: RealmContext) -> str:
    return ctx.realm.display_name or ctx.realm.name


def realm_path(ctx: RealmContext) -> str:
    return f"{urlsplit(ctx.issuer).path}/"


def set_cookie(response: Response, ctx: RealmContext, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path=realm_path(ctx), httponly=True, samesite="Lax",
                        secure=cookie_must_be_secure())


def cookie_must_be_secure() -> bool:
    """``Secure`` on every cookie, except over plain http to a loopback host (development)."""
    return not (request.scheme == "http" and is_loopback_host(request.host.rsplit(":", 1)[0].strip("[]")))


def clear_cookie(response: Response, ctx: RealmContext, name: str) -> None:
    response.delete_cookie(name, path=realm_path(ctx), httponly=True, samesite="Lax")


def browser_id() -> str | None:
    value = request.cookies.get(LOGIN_COOKIE)
    return value if value and len(value) <= 128 else None


def new_browser_id() -> str:
    return new_secret(32)


def csrf_token(ctx: RealmContext, browser: str, purpose: str) -> str:
    key = ctx.state.hasher.hash(f"csrf|{purpose}")
    return hmac.new(key.encode(), browser.encode(), hashlib.sha256).hexdigest()


def csrf_ok(ctx: RealmContext, browser: str | None, purpose: str, presented: str | None) -> bool:
    if not browser or not presented:
        return False
    return hmac.compare_digest(csrf_token(ctx, browser, purpose), presented)


def with_query(uri: str, params: dict[str, str]) -> str:
    """``uri`` with ``params`` appended to its query (RFC 6749 §3.1.2: keep what it had)."""
    parts = urlsplit(uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def authorization_response(redirect_uri: str, response_mode: str, params: dict[str, str | None]) -> Response:
    """RFC 6749 §4.1.2 with RFC 9207 ``iss``: a 303 to the client, or an auto-posted form."""
    values = {k: v for k, v in params.items() if v is not None}
    if response_mode == "form_post":
        target = urlsplit(redirect_uri)
        return page("form_post.html", form_targets=f"{target.scheme}://{target.netloc}",
                    redirect_uri=redirect_uri, fields=list(values.items()), realm_title="")
    return secured(redirect(with_query(redirect_uri, values), 303))
