"""What every console page shares: the signed-in check, the role and realm checks, strict
form parsing with the CSRF check, and the answer to a refused action.

Pages are rendered on the server from Jinja templates (``templates/console/``); forms post
back to the server; there is no script at all, and the Content-Security-Policy of every page
(:func:`authserver.browser.pages.secured`) allows nothing inline and nothing from elsewhere. The console's
actions call the same service functions as the CLI and the admin API; a service's refusal
(:class:`authserver.errors.ServiceError`) is shown on the page with its status, and the
transaction is rolled back first, so a refused action writes nothing.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import Response, abort, g, redirect, render_template, request
from werkzeug.datastructures import ImmutableMultiDict

from authserver.browser.pages import cookie_must_be_secure, secured
from authserver.console import access
from authserver.edge.form import parse_form
from authserver.errors import ServiceError
from authserver.extensions import db
from authserver.registry.realms import list_realms

SESSION_COOKIE = "authserver_console"
LOGIN_COOKIE = "authserver_console_login"
COOKIE_PATH = "/console"
#: A form body larger than this is refused before it is parsed.
MAX_FORM_BYTES = 64 * 1024


class Refused(Exception):
    """An action the console refuses before calling a service: shown like a service's refusal."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


def page(template: str, status: int = 200, **context: Any) -> Response:
    signed_in = g.get("console")
    context.setdefault("realm_name", None)
    html = render_template(f"console/{template}", signed_in=signed_in,
                           csrf=access.csrf_token(signed_in) if signed_in else "",
                           realms=visible_realms() if signed_in else [], **context)
    return secured(Response(html, status=status, mimetype="text/html"))


def visible_realms() -> list[str]:
    signed_in = g.console
    if signed_in.session.realm is not None:
        return [signed_in.session.realm]
    return [realm.name for realm in list_realms(limit=200)]


def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=COOKIE_PATH, httponly=True, samesite="Strict",
                        secure=cookie_must_be_secure())


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path=COOKIE_PATH, httponly=True, samesite="Strict")


def signed_in_only(view: Callable) -> Callable:
    """A page for a signed-in admin or viewer; a realm in the URL must be one they may see.
    Not signed in: the sign-in page."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        g.console = access.current(request.cookies.get(SESSION_COOKIE))
        if g.console is None:
            response = secured(redirect("/console/sign-in", 303))
            clear_cookie(response, SESSION_COOKIE)
            return response
        realm = kwargs.get("realm")
        if realm is not None and not g.console.may_see(realm):
            abort(404)
        try:
            return view(*args, **kwargs)
        except Refused as exc:
            return _error_page(exc.message, exc.status)
        except ServiceError as exc:
            return _error_page(exc.message, exc.status_code)

    return wrapper


def action(render_page: Callable[..., Response], viewers_too: bool = False) -> Callable:
    """A POST: the strict form with a valid CSRF token, from an admin (or a viewer too, for
    what changes nothing). A refusal re-renders ``render_page(**kwargs)`` with the message
    and its status."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            try:
                form = console_form()
                if not (viewers_too or g.console.may_change):
                    raise Refused("Your console role is viewer: it may look, not change.", 403)
                return view(form, *args, **kwargs)
            except Refused as exc:
                return _refused(render_page, kwargs, exc.message, exc.status)
            except ServiceError as exc:
                return _refused(render_page, kwargs, exc.message, exc.status_code)

        return signed_in_only(wrapper)

    return decorate


def _error_page(message: str, status: int) -> Response:
    db.session.rollback()
    return page("error.html", status, error=message)


def _refused(render_page: Callable[..., Response], kwargs: dict, message: str, status: int) -> Response:
    """The page the action was on, with the refusal; it takes the URL's values it names (the
    realm, the user), not the action's own (the client, the key...)."""
    db.session.rollback()
    accepted = inspect.signature(render_page).parameters
    response = render_page(**{name: value for name, value in kwargs.items() if name in accepted}, error=message)
    response.status_code = status
    return response


def console_form() -> ImmutableMultiDict:
    """The body, parsed as strictly as ``/token``'s, with this session's CSRF token."""
    if (request.content_length or 0) > MAX_FORM_BYTES:
        raise Refused("The form is too large.", 413)
    try:
        form = parse_form(request.get_data(cache=True), request.content_type)
    except InvalidRequestError as exc:
        raise Refused(exc.description) from None
    if not access.csrf_ok(g.console, form.get("csrf")):
        raise Refused("The form has expired or did not come from this console (CSRF check). Reload the page.", 403)
    return form


def field(form: ImmutableMultiDict, name: str, *, required: bool = True) -> str | None:
    value = (form.get(name) or "").strip()
    if required and not value:
        raise Refused(f"{name.replace('_', ' ')}: required")
    return value or None


def words(form: ImmutableMultiDict, name: str) -> list[str]:
    return (form.get(name) or "").split()


def confirmed(form: ImmutableMultiDict, what: str) -> None:
    if form.get("confirm") != "yes":
        raise Refused(f"Tick the box to confirm: {what}.")

