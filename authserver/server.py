"""The server, assembled in one place: every grant, every endpoint, every route.

Reading :func:`build_authorization_server` and :func:`mount_routes` tells a newcomer
everything the server speaks: each grant, endpoint and blueprint is registered by one line.
Discovery metadata (RFC 8414) is computed from the authorization server object, so it
cannot advertise what is not there.
"""

from __future__ import annotations

from authlib.integrations.flask_oauth2 import AuthorizationServer
from flask import Flask, g

from authserver import admin
from authserver.client_auth import PRIVATE_KEY_JWT, PrivateKeyJWTAuthentication
from authserver.edge import error_responses, limits
from authserver.endpoints import discovery, health, introspection, jwks, registration, revocation, sessions, token
from authserver.endpoints.introspection import TokenIntrospection
from authserver.endpoints.revocation import TokenRevocation
from authserver.grants.client_credentials import ClientCredentialsGrant
from authserver.grants.token_exchange import TokenExchangeGrant
from authserver.registry.clients import cached_client


class ChatAuthorizationServer(AuthorizationServer):
    """Authlib's Flask server, scoped per request to the realm in the URL."""

    def __init__(self, app: Flask):
        super().__init__()
        self.init_app(app, query_client=self._realm_client, save_token=self._stateless)

    @staticmethod
    def _realm_client(client_id: str):
        """Clients of the realm in the URL only: a client of another realm does not exist
        here. Memoized for the request: Authlib asks once per authentication method."""
        if not isinstance(client_id, str):
            return None
        memo = g.setdefault("clients_by_id", {})
        if client_id not in memo:
            memo[client_id] = cached_client(g.realm, client_id)
        return memo[client_id]

    def authenticate_client(self, request, methods, endpoint="token"):
        """Authlib's client authentication under the rate limits (:mod:`authserver.edge.limits`)."""
        authenticate = super().authenticate_client
        return limits.guard_client_authentication(
            lambda: authenticate(request, methods, endpoint), endpoint)

    def handle_error_response(self, request, error):
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
    server.register_client_auth_method(PRIVATE_KEY_JWT, PrivateKeyJWTAuthentication())
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(TokenExchangeGrant)
    server.register_endpoint(TokenIntrospection)
    server.register_endpoint(TokenRevocation)
    return server


def mount_routes(app: Flask) -> None:
    """Every route of the app: the error answers first, then one blueprint per endpoint."""
    error_responses.register_error_handlers(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(discovery.blueprint)
    app.register_blueprint(jwks.blueprint)
    app.register_blueprint(token.blueprint)
    app.register_blueprint(introspection.blueprint)
    app.register_blueprint(revocation.blueprint)
    app.register_blueprint(sessions.blueprint)
    app.register_blueprint(registration.blueprint)
    app.register_blueprint(admin.create_blueprint())
