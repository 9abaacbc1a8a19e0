"""Console sign-in and sign-out: the single-use link, the browser login of ``ADMIN_REALM``
(:mod:`authserver.console.access`), and the home page."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import Blueprint, current_app, g, redirect, request

from authserver.browser.pages import secured
from authserver.console import access
from authserver.console.web import (
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Refused,
    clear_cookie,
    console_form,
    page,
    set_cookie,
    signed_in_only,
)
from authserver.crypto import new_secret
from authserver.edge.form import parse_form

blueprint = Blueprint("console_session", __name__)
LOGIN_COOKIE_SECONDS = 600


def _signed_in_response(cookie: str):
    response = secured(redirect("/console", 303))
    set_cookie(response, SESSION_COOKIE, cookie, current_app.config["CONSOLE_SESSION_SECONDS"])
    clear_cookie(response, LOGIN_COOKIE)
    return response


def _sign_in_page(message: str | None = None, status: int = 200):
    g.console = None
    return page("sign_in.html", status, error=message, admin_realm=current_app.config["ADMIN_REALM"])


@blueprint.get("/sign-in")
def sign_in():
    return _sign_in_page()


@blueprint.get("/link/<token>")
def link(token: str):
    """The link shows a button; only the POST spends it (a link preview cannot)."""
    g.console = None
    return page("link.html", token=token)


@blueprint.post("/link/<token>")
def redeem_link(token: str):
    try:
        parse_form(request.get_data(cache=True), request.content_type)
        cookie = access.redeem_link(token)
    except InvalidRequestError as exc:
        return _sign_in_page(exc.description, 400)
    except access.SignInRefused as exc:
        return _sign_in_page(exc.message, 403)
    return _signed_in_response(cookie)


@blueprint.get("/login")
def login():
    """Off to ``ADMIN_REALM``'s browser login, bound to this browser by a short-lived cookie."""
    login_cookie = new_secret(32)
    response = secured(redirect(access.login_url(login_cookie), 303))
    set_cookie(response, LOGIN_COOKIE, login_cookie, LOGIN_COOKIE_SECONDS)
    return response


@blueprint.get("/callback")
def callback():
    try:
        cookie = access.finish_login(request.cookies.get(LOGIN_COOKIE), request.args)
    except access.SignInRefused as exc:
        response = _sign_in_page(exc.message, 403)
        clear_cookie(response, LOGIN_COOKIE)
        return response
    return _signed_in_response(cookie)


@blueprint.post("/sign-out")
@signed_in_only
def sign_out():
    try:
        console_form()
    except Refused as exc:
        return page("home.html", exc.status, error=exc.message)
    access.end(g.console)
    response = secured(redirect("/console/sign-in", 303))
    clear_cookie(response, SESSION_COOKIE)
    return response


@blueprint.get("")
@blueprint.get("/")
@signed_in_only
def home():
    return page("home.html")
