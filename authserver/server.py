"""The server, assembled in one place: every grant, every endpoint, every route.

Reading :func:`build_authorization_server` and :func:`mount_routes` tells a newcomer
everything the server speaks: each grant, endpoint and blueprint is registered by one line.
Discovery metadata (RFC 8414) is computed from the authorization server object, so it
cannot advertise what is not there.

:class:`ChatAuthorizationServer` is Authlib's Flask server with two edges of ours: the
request it hands grants and endpoints carries only the strictly parsed form body
(:mod:`authserver.edge.form`) and the request's realm context; and client authentication
(RFC 6749 §2.3) runs on the one method the request presents
(:mod:`authserver.edge.client_credentials`), with one answer for every failure.
"""

from __future__ import annotations

from collections import defaultdict
from functools import cached_property

from authlib.common.security import is_secure_transport
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from flask import Flask, g
from flask import request as flask_request
from flask.sessions import SessionInterface

from authserver import admin, console
from authserver.browser import pages
from authserver.client_auth import PRIVATE_KEY_JWT, PrivateKeyJWTAuthentication
from authserver.edge import error_responses, limits
from authserver.edge.client_credentials import client_authentication_failed, presented_credentials
from authserver.edge.form import parse_form
from authserver.endpoints import (
    authorize,
    discovery,
    health,
    introspection,
    jwks,
    logout,
    registration,
    revocation,
    sessions,
    token,
    userinfo,
)
from authserver.endpoints.introspection import TokenIntrospection
from authserver.endpoints.revocation import TokenRevocation
from authserver.extensions import db
from authserver.grants.authorization_code import AuthorizationCodeGrant, RequiredS256
from authserver.grants.client_credentials import ClientCredentialsGrant
from authserver.grants.refresh_token import RefreshTokenGrant
from authserver.grants.token_exchange import TokenExchangeGrant
from authserver.models import Client
from authserver.registry.clients import cached_client, verify_client_secret

_MAX_REMEMBERED_HOSTS = 1024


class StrictPayload(OAuth2Payload):
    def __init__(self, form):
        self._form = form

    @property
    def data(self):
        return self._form

    @cached_property
    def datalist(self):
        values = defaultdict(list)
        for name in self._form:
            values[name].extend(self._form.getlist(name))
        return values


class StrictOAuth2Request(OAuth2Request):
    """An OAuth request as grants see it: the strictly parsed body, never the query string.

    Built without Authlib's constructor, which rebuilds and re-parses the request's URL for
    its transport check every time: the server makes that check once per scheme and host
    (:meth:`ChatAuthorizationServer.create_oauth2_request`). The attributes are Authlib's
    (``tests/test_server.py`` compares them with Authlib's own)."""

    def __init__(self, form, realm_ctx):  # Authlib's constructor is not called: see the docstring
        self.method, self.headers = flask_request.method, flask_request.headers
        self._body = self.client = self.auth_method = self.user = self._scope = None
        self.authorization_code = self.refresh_token = self.credential = None
        self._form = form
        self.payload = StrictPayload(form)
        self.realm_ctx = realm_ctx

    @property
    def uri(self) -> str:
        return flask_request.url

    @property
    def args(self):
        return flask_request.args

    @property
    def form(self):
        return self._form


class ChatAuthorizationServer(AuthorizationServer):
    """Authlib's Flask server, scoped per request to the realm in the URL."""

    def __init__(self, app: Flask):
        super().__init__()
        self.init_app(app, query_client=self._realm_client, save_token=self._stateless)
        self._assertion_authentication = PrivateKeyJWTAuthentication()
        self._secure_transport: dict[tuple[str, str], bool] = {}

    def create_oauth2_request(self, request) -> StrictOAuth2Request:
        self._check_transport(flask_request.scheme, flask_request.host)
        form = g.oauth_form = parse_form(flask_request.get_data(cache=True), flask_request.content_type)
        return StrictOAuth2Request(form, g.realm_ctx)

    def _check_transport(self, scheme: str, host: str) -> None:
        """Authlib's check (https, or http on loopback), remembered per scheme and host."""
        secure = self._secure_transport.get((scheme, host))
        if secure is None:
            secure = is_secure_transport(f"{scheme}://{host}/")
            if len(self._secure_transport) < _MAX_REMEMBERED_HOSTS:
                self._secure_transport[(scheme, host)] = secure
        if not secure:
            raise InsecureTransportError()

    @staticmethod
    def _realm_client(client_id: str) -> Client | None:
        """Clients of the realm in the URL only: a client of another realm does not exist
        here. Memoized for the request."""
        if not isinstance(client_id, str):
            return None
        memo = g.setdefault("clients_by_id", {})
        if client_id not in memo:
            memo[client_id] = cached_client(g.realm, client_id)
        return memo[client_id]

    def authenticate_client(self, request, methods, endpoint="token") -> Client:
        """RFC 6749 §2.3 on the one presented method, under the rate limits."""
        credentials = presented_credentials(request.headers.getlist("Authorization"), request.form)
        return limits.guard_client_authentication(
            lambda: self._authenticate(request, credentials, methods, endpoint), endpoint, credentials.client_id)

    def _authenticate(self, request, credentials, methods, endpoint) -> Client:
        client = self._realm_client(credentials.client_id)
        if credentials.method not in methods or client is None or client.disabled \
                or client.auth_method != credentials.method:
            raise client_authentication_failed()
        if credentials.method == PRIVATE_KEY_JWT:
            client = self._assertion_authentication(self._realm_client, request)
        elif credentials.method != "none" and not verify_client_secret(client, credentials.secret or ""):
            raise client_authentication_failed()
        if client is None:
            raise client_authentication_failed()
        request.auth_method = credentials.method
        return client

    def handle_error_response(self, request, error):
        db.session.rollback()  # a refused request leaves nothing half-written
        if error.error == "invalid_client":
            error.status_code = 401  # DESIGN: invalid_client is always 401
        return super().handle_error_response(request, error)

    @staticmethod
    def _stateless(token: dict, request) -> None:
        """Our access tokens are self-contained JWTs: nothing to store per token."""

    @property
    def grant_types(self) -> list[str]:
        return [grant.GRANT_TYPE for grant, _ in self._token_grants]

    @property
    def endpoint_names(self) -> list[str]:
        return sorted(self._endpoints)

    @property
    def token_endpoint_auth_methods(self) -> list[str]:
        methods: list[str] = []
        for grant, _ in self._token_grants:
            methods += [m for m in grant.TOKEN_ENDPOINT_AUTH_METHODS if m not in methods]
        return methods


def build_authorization_server(app: Flask) -> ChatAuthorizationServer:
    server = ChatAuthorizationServer(app)
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(TokenExchangeGrant)
    server.register_grant(AuthorizationCodeGrant, [RequiredS256()])
    server.register_grant(RefreshTokenGrant)
    server.register_endpoint(TokenIntrospection)
    server.register_endpoint(TokenRevocation)
    return server


class NoCookieSessions(SessionInterface):
    """authserver keeps no state in Flask's signed-cookie session (the browser login and the
    console have their own server-side state and cookies): every request gets the null
    session, and no ``Set-Cookie`` is ever derived from it."""

    def open_session(self, app: Flask, request):
        return self.make_null_session(app)

    def save_session(self, app: Flask, session, response) -> None:
        return None


def mount_routes(app: Flask) -> None:
    """Every route of the app: the error answers first, then one blueprint per endpoint."""
    app.session_interface = NoCookieSessions()
    error_responses.register_error_handlers(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(discovery.blueprint)
    app.register_blueprint(jwks.blueprint)
    app.register_blueprint(token.blueprint)
    app.register_blueprint(introspection.blueprint)
    app.register_blueprint(revocation.blueprint)
    app.register_blueprint(sessions.blueprint)
    app.register_blueprint(registration.blueprint)
    app.register_blueprint(authorize.blueprint)
    app.register_blueprint(userinfo.blueprint)
    app.register_blueprint(logout.blueprint)
    app.register_blueprint(pages.static_blueprint)
    app.register_blueprint(admin.create_blueprint())
    app.register_blueprint(console.create_blueprint())
    app.register_blueprint(console.static_blueprint)
