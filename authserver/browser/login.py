"""The browser login, step by step (OIDC Core §3.1.2, RFC 6749 §4.1, RFC 9126, RFC 9207).

1. the request     parsed at ``/authorize`` (or pushed at ``/par`` and named by ``request_uri``)
2. single sign-on  a live browser session of the realm answers at once (unless ``prompt=login``
                   or ``max_age`` is exceeded); ``prompt=none`` without one is ``login_required``
3. the IdP         hinted, the only one the client may use, or chosen on the login page
4. upstream        the Relying Party leg (:mod:`authserver.browser.upstream`)
5. the user        decided by :mod:`authserver.identity.decision`, as the token exchange does
6. the answer      a browser session, a single-use code, and the redirect back with ``iss``

The views in :mod:`authserver.endpoints.authorize` only translate HTTP to these functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from authserver.browser import store, upstream
from authserver.browser.authorization import AuthorizationError, AuthorizationParams
from authserver.extensions import db
from authserver.identity.decision import Login, ProvisioningRefused, decide_login
from authserver.identity.federation import allowed_idps
from authserver.models import AuthorizationRequest, BrowserSession, Client, DeviceSession, IdentityProvider, User
from authserver.plugin_api import UpstreamUnavailable
from authserver.registry.clients import cached_client
from authserver.state import RealmContext


@dataclass(frozen=True)
class Redirect:
    """Send the browser to ``url`` (the upstream IdP)."""

    url: str


@dataclass(frozen=True)
class ChooseIdP:
    """Show the login page: the in-flight request's handle and the connections to choose from."""

    handle: str
    idps: list[IdentityProvider]
    client_name: str


@dataclass(frozen=True)
class Answer:
    """Back to the client: the authorization response, and the session cookie to set."""

    params: AuthorizationParams
    values: dict[str, str | None]
    session_cookie: str | None = None


def usable_idps(ctx: RealmContext, client: Client) -> list[IdentityProvider]:
    """The client's connections whose connector can run a browser login, in the client's order."""
    allowed = allowed_idps(ctx, client)
    return [allowed[name] for name in client.idps if name in allowed and upstream.supports_browser_login(allowed[name])]


def refusal(params: AuthorizationParams, client: Client, error: str, description: str) -> AuthorizationError:
    return AuthorizationError(error, description, client=client, redirect_uri=params.redirect_uri,
                              state=params.state, response_mode=params.response_mode)


def begin(ctx: RealmContext, client: Client, params: AuthorizationParams, *, browser: str,
          session_cookie: str | None, device_session_pk: int | None = None):
    """Steps 2-3: answer from the browser session, or start a login."""
    if params.prompt != "login" and device_session_pk is None:
        live = store.current_session(ctx, session_cookie)
        if live is not None and _session_fits(ctx, client, params, *live):
            session, user = live
            return _answer(ctx, client, params, user.id, session, session.idp_name)
    if params.prompt == "none":
        raise refusal(params, client, "login_required", "the user is not signed in")
    idps = usable_idps(ctx, client)
    if not idps:
        raise refusal(params, client, "access_denied", "no identity provider is available to this client")
    handle, row = store.save_request(ctx, params, pushed=False, browser=browser, device_session_pk=device_session_pk)
    hinted = [idp for idp in idps if idp.name == params.idp_hint]
    if hinted or len(idps) == 1:
        return start_upstream(ctx, row, (hinted or idps)[0], params)
    db.session.commit()
    return ChooseIdP(handle, idps, client.name)


def _session_fits(ctx: RealmContext, client: Client, params: AuthorizationParams, session: BrowserSession,
                  user: User) -> bool:
    if params.max_age is not None and ctx.now() - session.auth_time > params.max_age:
        return False
    return session.idp_name is None or session.idp_name in {idp.name for idp in usable_idps(ctx, client)}


def choose(ctx: RealmContext, handle: str, browser: str | None, idp_name: str):
    """The login page's choice: the in-flight request, in its browser, and an IdP it may use."""
    row = store.pending_request(ctx, handle, browser)
    if row is None:
        raise AuthorizationError("invalid_request", "this sign-in has expired or belongs to another browser")
    client = _client_of(ctx, row)
    params = AuthorizationParams.from_dict(row.params)
    idp = next((idp for idp in usable_idps(ctx, client) if idp.name == idp_name), None)
    if idp is None:
        raise AuthorizationError("invalid_request", "this identity provider is not available to the application")
    return start_upstream(ctx, row, idp, params)


def start_upstream(ctx: RealmContext, row: AuthorizationRequest, idp: IdentityProvider,
                   params: AuthorizationParams) -> Redirect:
    """Step 4, out: the upstream authorization request, its state kept with ours."""
    started = upstream.start(ctx, idp, callback_url(ctx, idp.name), login_hint=params.login_hint,
                             prompt="login" if params.prompt == "login" else None, max_age=params.max_age)
    row.idp_name = idp.name
    row.upstream_state_hash = upstream.state_hash(ctx, started.state)
    row.upstream_leg_sealed = started.leg_sealed
    db.session.commit()
    return Redirect(started.redirect_url)


def upstream_origins(ctx: RealmContext, idps: list[IdentityProvider]) -> str:
    """Where the login page's form may lead (CSP ``form-action`` applies to the redirect that
    follows the POST): the listed connections' authorization endpoints."""
    origins = []
    for idp in idps:
        try:
            endpoint = ctx.state.connectors.connector(idp).browser_endpoints().authorization_endpoint
        except UpstreamUnavailable:
            continue
        parts = urlsplit(endpoint)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return " ".join(dict.fromkeys(origins))


def callback_url(ctx: RealmContext, idp_name: str) -> str:
    return f"{ctx.issuer}/broker/{idp_name}/callback"


def finish(ctx: RealmContext, idp_name: str, args, browser: str | None) -> Answer:
    """Step 4, back, then 5-6: the upstream's answer, in the browser that left, once."""
    state = args.get("state")
    if not state or len(state) > 512:
        raise AuthorizationError("invalid_request", "the identity provider's answer has no state")
    row = store.request_by_upstream_state(ctx, upstream.state_hash(ctx, state))
    if (row is None or row.idp_name != idp_name or row.used_at is not None or row.expires_at <= ctx.now()
            or not store.same_browser(ctx, row, browser)):
        raise AuthorizationError("invalid_request", "this sign-in has expired, was used, or belongs to another browser")
    client = _client_of(ctx, row)
    params = AuthorizationParams.from_dict(row.params)
    if not store.spend(ctx, AuthorizationRequest, row):
        raise AuthorizationError("invalid_request", "this sign-in was already completed")
    idp = next((idp for idp in usable_idps(ctx, client) if idp.name == idp_name), None)
    if idp is None:
        raise refusal(params, client, "access_denied", "the identity provider is no longer available")
    try:
        identity = upstream.finish(ctx, client, idp, row.upstream_leg_sealed, state, args)
    except upstream.UpstreamLoginFailed as exc:
        db.session.commit()  # the request stays spent
        raise refusal(params, client, "access_denied", exc.message) from None
    try:
        decision = decide_login(ctx, Login(idp=idp, identity=identity, upgrade=_device_session(row)))
    except ProvisioningRefused as exc:
        db.session.rollback()
        _spend_again(ctx, row)
        raise refusal(params, client, "access_denied", exc.message) from None
    new = store.start_session(ctx, decision.user.id, idp.name)
    return _answer(ctx, client, params, decision.user.id, new.session, idp.name, new.cookie)


def _spend_again(ctx: RealmContext, row: AuthorizationRequest) -> None:
    """After a rollback, the request is still spent (it must not be replayed)."""
    fresh = db.session.get(AuthorizationRequest, row.id)
    if fresh is not None:
        store.spend(ctx, AuthorizationRequest, fresh)
    db.session.commit()


def _answer(ctx: RealmContext, client: Client, params: AuthorizationParams, user_pk: int, session: BrowserSession,
            idp_name: str | None, cookie: str | None = None) -> Answer:
    store.note_client(session, client.client_id)
    code = store.issue_code(ctx, params, user_pk, session, idp_name)
    db.session.commit()
    return Answer(params, {"code": code, "state": params.state, "iss": ctx.issuer}, cookie)


def _client_of(ctx: RealmContext, row: AuthorizationRequest) -> Client:
    client = cached_client(ctx.realm, row.client_id)
    if client is None or client.disabled:
        raise AuthorizationError("invalid_client", "the application is no longer available")
    return client


def _device_session(row: AuthorizationRequest) -> DeviceSession | None:
    if row.device_session_pk is None:
        return None
    session = db.session.get(DeviceSession, row.device_session_pk)
    return session if session is not None and session.ended_at is None else None
