"""OpenID Connect RP-Initiated Logout 1.0: ``/realms/{r}/logout`` ends the realm's browser
session, revokes the refresh tokens bound to it, and returns the browser to a registered
``post_logout_redirect_uri`` (with ``state``) or shows authserver's signed-out page.

Without an ``id_token_hint`` naming the current session, the user confirms on a page whose
form carries a CSRF token (§2: the OP SHOULD ask), so no third-party page logs a user out.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from flask import Blueprint, g, request

from authserver.browser import pages, store
from authserver.browser.authorization import AuthorizationError, single_values
from authserver.edge.form import parse_form
from authserver.edge.realm_binding import bind_realm
from authserver.extensions import db
from authserver.models import RefreshToken
from authserver.registry.clients import cached_client
from authserver.tokens.id_token import read_id_token_hint

blueprint = Blueprint("logout", __name__, url_prefix="/realms/<realm>")
pages.answer_pages_when_the_database_fails(blueprint)
blueprint.url_value_preprocessor(bind_realm)
CONFIRM = "logout"
PASSED_ON = ("id_token_hint", "post_logout_redirect_uri", "state", "client_id")


@blueprint.route("/logout", methods=["GET", "POST"])
def logout():
    ctx = g.realm_ctx
    try:  # the confirmation form: its body only, strictly (repeated, not UTF-8, NUL: refused)
        source = request.args if request.method == "GET" else parse_form(request.get_data(cache=True),
                                                                           request.content_type)
    except InvalidRequestError as exc:
        return pages.error_page(ctx, exc.error, exc.description)
    try:
        values = single_values(source)
        hint = read_id_token_hint(ctx, values["id_token_hint"]) if values.get("id_token_hint") else None
        target = _return_target(ctx, values, hint)
    except AuthorizationError as exc:
        return pages.error_page(ctx, exc.error, exc.description)
    live = store.current_session(ctx, request.cookies.get(pages.SESSION_COOKIE))
    confirmed = request.method == "POST" and pages.csrf_ok(ctx, pages.browser_id(), CONFIRM, values.get("csrf_token"))
    hinted_session = live is not None and hint is not None and hint.get("sid") == live[0].sid
    if live is not None and not (confirmed or hinted_session):
        return _confirmation(ctx, values)
    if live is not None:
        _end(ctx, live[0])
    response = (pages.authorization_response(target, "query", {"state": values.get("state")}) if target
                else pages.page("logged_out.html", realm_title=pages.realm_title(ctx)))
    pages.clear_cookie(response, ctx, pages.SESSION_COOKIE)
    return response


def _return_target(ctx, values: dict, hint: dict | None) -> str | None:
    """§3: only a URI registered for the client the hint (or ``client_id``) names."""
    uri = values.get("post_logout_redirect_uri")
    if uri is None:
        return None
    client_id = hint["aud"] if hint else values.get("client_id")
    if hint and values.get("client_id") and values["client_id"] != hint["aud"]:
        raise AuthorizationError("invalid_request", "client_id does not match the ID token")
    client = cached_client(ctx.realm, client_id) if client_id else None
    if client is None or uri not in (client.post_logout_redirect_uris or []):
        raise AuthorizationError("invalid_request", "post_logout_redirect_uri is not registered for this client")
    return uri


def _confirmation(ctx, values: dict):
    browser = pages.browser_id() or pages.new_browser_id()
    target = urlsplit(values.get("post_logout_redirect_uri") or "")
    response = pages.page("logout.html", action=f"{ctx.issuer}/logout", realm_title=pages.realm_title(ctx),
                          form_targets=f"{target.scheme}://{target.netloc}" if target.netloc else "",
                          csrf_token=pages.csrf_token(ctx, browser, CONFIRM),
                          fields=[(name, values[name]) for name in PASSED_ON if values.get(name)])
    if request.cookies.get(pages.LOGIN_COOKIE) != browser:
        pages.set_cookie(response, ctx, pages.LOGIN_COOKIE, browser, store.request_ttl())
    return response


def _end(ctx, session) -> None:
    store.end_session(ctx, session)
    db.session.query(RefreshToken).filter(
        RefreshToken.realm_id == ctx.realm.id, RefreshToken.browser_sid == session.sid,
        RefreshToken.revoked_at.is_(None)).update({"revoked_at": ctx.now()}, synchronize_session=False)
    db.session.commit()
