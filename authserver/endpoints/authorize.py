"""Browser login endpoints, per realm: ``GET /authorize`` (RFC 6749 §4.1.1, OIDC Core
§3.1.2), ``POST /par`` (RFC 9126), the login page's choice, and the upstream IdP's callback
``GET /broker/{idp}/callback``. The steps live in :mod:`authserver.browser.login`; these views
parse, call them, and answer — an error before the client's redirect URI is known is shown on
authserver's page, never redirected (RFC 9700 §4.1).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError, OAuth2Error
from flask import Blueprint, current_app, g, jsonify, redirect, request

from authserver.browser import login, pages, store
from authserver.browser.authorization import (
    AuthorizationError,
    AuthorizationParams,
    check_redirect_uri,
    find_client,
    parse_request,
    single_values,
)
from authserver.edge.form import parse_form
from authserver.edge.realm_binding import bind_realm
from authserver.extensions import db
from authserver.identity.sessions import find_active_session
from authserver.plugin_api import UpstreamUnavailable

blueprint = Blueprint("authorize", __name__, url_prefix="/realms/<realm>")
pages.answer_pages_when_the_database_fails(blueprint)
blueprint.url_value_preprocessor(bind_realm)
CHOOSE = "choose-idp"


@blueprint.route("/authorize", methods=["GET"])
def authorize():
    ctx = g.realm_ctx
    browser = pages.browser_id() or pages.new_browser_id()

    def begin():
        client, params, device_session_pk = _authorization_request(ctx)
        return login.begin(ctx, client, params, browser=browser,
                           session_cookie=request.cookies.get(pages.SESSION_COOKIE),
                           device_session_pk=device_session_pk)

    return _run_step(ctx, begin, browser)


@blueprint.post("/authorize/choose")
def choose_idp():
    ctx = g.realm_ctx
    browser = pages.browser_id()
    try:
        form = parse_form(request.get_data(cache=True), request.content_type)
    except InvalidRequestError as exc:  # repeated, not UTF-8, NUL: refused before anything is read or written
        return pages.error_page(ctx, exc.error, exc.description)
    if not pages.csrf_ok(ctx, browser, CHOOSE, form.get("csrf_token")):
        return pages.error_page(ctx, "invalid_request", "the form has expired; start signing in again", 403)
    return _run_step(ctx, lambda: login.choose(ctx, form.get("request", ""), browser, form.get("idp", "")), browser)


@blueprint.get("/broker/<idp>/callback")
def upstream_callback(idp: str):
    ctx = g.realm_ctx
    browser = pages.browser_id()
    return _run_step(ctx, lambda: login.finish(ctx, idp, single_values(request.args), browser), browser)


def _run_step(ctx, step, browser: str | None):
    """One step of the login, answered: its outcome, its refusal, or the IdP being down (503)."""
    try:
        outcome = step()
    except AuthorizationError as exc:
        return _refused(ctx, exc)
    except UpstreamUnavailable:
        db.session.rollback()
        return pages.error_page(ctx, "temporarily_unavailable", "the identity provider cannot be reached", 503)
    return _respond(ctx, outcome, browser)


@blueprint.post("/par")
def pushed_authorization_request():
    """RFC 9126 §2: the client (authenticated as registered) pushes the request; answers
    ``request_uri`` and ``expires_in``. A device session token travels here, never in a URL."""
    ctx = g.realm_ctx
    server = current_app.extensions["authserver.oauth2"]
    oauth_request = None
    try:
        oauth_request = server.create_oauth2_request(request)
        client = _par_client(server, oauth_request)
        values = single_values(oauth_request.form)
        if "request_uri" in values:
            raise InvalidRequestError(description="request_uri must not be pushed (RFC 9126 section 2.1).")
        params = parse_request(ctx, client, check_redirect_uri(client, values), values)
        device_session_pk = _device_session(ctx, client, values.get("session_token"))
        handle, _row = store.save_request(ctx, params, pushed=True, device_session_pk=device_session_pk)
        db.session.commit()
    except AuthorizationError as exc:
        db.session.rollback()
        return _json_error(exc.error, exc.description, 401 if exc.error == "invalid_client" else 400)
    except OAuth2Error as exc:
        return server.handle_error_response(oauth_request, exc)
    response = jsonify({"request_uri": store.REQUEST_URI_PREFIX + handle, "expires_in": store.request_ttl()})
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


# --- helpers ---------------------------------------------------------------------------


def _authorization_request(ctx):
    """The request from the query, or the pushed one its ``request_uri`` names (RFC 9126 §4)."""
    values = single_values(request.args)
    client = find_client(ctx, values)
    if "request_uri" in values:
        row = store.pushed_request(ctx, values["request_uri"], client.client_id)
        if row is None:
            raise AuthorizationError("invalid_request", "request_uri is unknown, expired or already used")
        params = AuthorizationParams.from_dict(row.params)
        db.session.commit()  # the pushed request is spent, whatever follows
        return client, params, row.device_session_pk
    redirect_uri = check_redirect_uri(client, values)
    if client.require_par:
        raise AuthorizationError("invalid_request", "this client must push its authorization requests (/par)",
                                 client=client, redirect_uri=redirect_uri, state=values.get("state"))
    if "session_token" in values:
        raise AuthorizationError("invalid_request", "a session token must not travel in a URL: push it with /par",
                                 client=client, redirect_uri=redirect_uri, state=values.get("state"))
    return client, parse_request(ctx, client, redirect_uri, values), None


def _par_client(server, oauth_request):
    client_id = oauth_request.form.get("client_id")
    credentials_presented = request.headers.get("Authorization") or oauth_request.form.get("client_secret") \
        or oauth_request.form.get("client_assertion")
    if credentials_presented:
        client = server.authenticate_client(oauth_request, ["client_secret_basic", "client_secret_post",
                                                            "private_key_jwt"], endpoint="par")
        if client_id and client_id != client.client_id:
            raise InvalidClientError(status_code=401, description="client_id does not match the authenticated client.")
    else:
        client = server.authenticate_client(oauth_request, ["none"], endpoint="par")
    return find_client(g.realm_ctx, {"client_id": client.client_id})  # allowed the code flow


def _device_session(ctx, client, token: str | None) -> int | None:
    if token is None:
        return None
    session = find_active_session(ctx, client, token)
    if session is None:
        raise AuthorizationError("invalid_request", "the session token is not valid")
    return session.id


def _respond(ctx, outcome, browser: str | None):
    if isinstance(outcome, login.Redirect):
        response = pages.secured(redirect(outcome.url, 303))
    elif isinstance(outcome, login.ChooseIdP):
        response = pages.page("login.html", form_targets=login.upstream_origins(ctx, outcome.idps),
                              action=f"{ctx.issuer}/authorize/choose", handle=outcome.handle,
                              csrf_token=pages.csrf_token(ctx, browser, CHOOSE), realm_title=pages.realm_title(ctx),
                              client_name=outcome.client_name,
                              idps=[{"name": idp.name, "label": _label(idp)} for idp in outcome.idps])
    else:
        response = pages.authorization_response(outcome.params.redirect_uri, outcome.params.response_mode,
                                                outcome.values)
        if outcome.session_cookie:
            pages.set_cookie(response, ctx, pages.SESSION_COOKIE, outcome.session_cookie, store.session_ttl())
        pages.clear_cookie(response, ctx, pages.LOGIN_COOKIE)
        return response
    if browser and request.cookies.get(pages.LOGIN_COOKIE) != browser:
        pages.set_cookie(response, ctx, pages.LOGIN_COOKIE, browser, store.request_ttl())
    return response


def _refused(ctx, exc: AuthorizationError):
    db.session.rollback()
    if exc.redirect_uri is None:
        return pages.error_page(ctx, exc.error, exc.description)
    return pages.authorization_response(exc.redirect_uri, exc.response_mode, {
        "error": exc.error, "error_description": exc.description, "state": exc.state, "iss": ctx.issuer})


def _json_error(error: str, description: str, status: int):
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _label(idp) -> str:
    return (idp.config or {}).get("display_name") or idp.name
