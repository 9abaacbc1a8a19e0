"""RFC 8693 OAuth 2.0 Token Exchange: an upstream token in, a scoped chat token out.

The client authenticates as registered; the subject token is verified by the connection
the client may use and mapped to one chat user; ``audience``/``resource`` must name a chat
backend the client may target (``invalid_target``); granted scopes are requested ∩
client's ∩ backend's (``invalid_scope``). The backend's token profile shapes the token;
lifetime, ``jti`` and signing stay in the core.
"""

from __future__ import annotations

import logging

from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.grants import BaseGrant, TokenEndpointMixin
from flask import g

from authserver.errors import InvalidTargetError, TemporarilyUnavailableError
from authserver.identity.subjects import actor_claim, read_subject_token, resolve_subject
from authserver.identity.users import ProvisioningRefused
from authserver.plugin_api import TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT, PluginConfigError
from authserver.plugin_host.profiles import profile_for
from authserver.registry.clients import GRANT_TOKEN_EXCHANGE, find_client
from authserver.tokens import usage
from authserver.tokens.audience import requested_target, resolve_backend
from authserver.tokens.issuance import build_granted_token
from authserver.tokens.scopes import grant_scopes, narrow_scopes
from authserver.tokens.signing import bearer_response, issue_profiled_token

REQUESTED_TOKEN_TYPES = (TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT)
log = logging.getLogger(__name__)


class TokenExchangeGrant(BaseGrant, TokenEndpointMixin):
    GRANT_TYPE = GRANT_TOKEN_EXCHANGE
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]

    def validate_token_request(self) -> None:
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError(description="The client may not use token exchange.")
        self.request.client = client
        form = self.request.payload.data
        self.requested_type = _requested_token_type(form)
        token, token_type = read_subject_token(form)
        self.backend = resolve_backend(g.realm, client, requested_target(form))
        self.profile = _profile(self.backend)
        try:
            self.subject = resolve_subject(g.realm, g.realm_issuer, client, token, token_type, form)
        except ProvisioningRefused as exc:
            raise InvalidGrantError(description=exc.message) from None
        self.subject.extra["act"] = actor_claim(g.realm, g.realm_issuer, client, form)
        _check_rescoped_audience(self.subject, self.backend.audience)
        self.scopes = self._granted_scopes(client)

    def _granted_scopes(self, client) -> list[str]:
        scope = self.request.payload.scope
        granted = grant_scopes(scope, client.scopes, self.backend.scopes, self.backend.default_scopes)
        if self.subject.held_scopes is None:
            return granted
        narrowed = narrow_scopes(scope, [s for s in self.subject.held_scopes if s in granted])
        if not narrowed:
            raise InvalidScopeError(description="The subject token holds none of these scopes.")
        return narrowed

    def create_token_response(self):
        client = self.request.client
        granted = build_granted_token(g.realm_issuer, client, self.backend, self.subject,
                                      self.scopes, self.profile)
        try:
            token, issued_type = issue_profiled_token(g.realm.name, granted, self.profile)
        except ValueError as exc:  # the profile cannot represent this user (e.g. too long an id)
            log.info("token profile %s refused the user: %s", self.backend.profile, exc.__class__.__name__)
            raise InvalidGrantError(description="The chat backend cannot represent this user.") from None
        if self.requested_type == TOKEN_TYPE_JWT:
            issued_type = TOKEN_TYPE_JWT
        usage.record(g.realm, self.subject.user, client.client_id, self.subject.idp or "-",
                     anonymous=not self.subject.user.identified)
        body = bearer_response(token, granted.expires_at - granted.issued_at, self.scopes, issued_type)
        if "upgrade" in self.subject.extra:
            body["upgrade"] = {**self.subject.extra["upgrade"], "_id": self.subject.user.uid}
        return 200, body, self.TOKEN_RESPONSE_HEADER


def _check_rescoped_audience(subject, audience: str) -> None:
    """Re-exchanging one of our tokens: only an audience it, or its client, already had."""
    if subject.held_audience is None or audience == subject.held_audience:
        return
    held_client = find_client(g.realm, subject.extra.get("held_client") or "")
    if held_client is None or audience not in held_client.audiences:
        raise InvalidTargetError(description="The subject token was not issued for this audience.")


def _profile(backend):
    try:
        return profile_for(backend)
    except PluginConfigError as exc:
        log.error("chat backend %s is misconfigured: %s", backend.audience, exc.key)
        raise TemporarilyUnavailableError(description="The chat backend is not configured.") from None


def _requested_token_type(form) -> str:
    requested = form.get("requested_token_type") or TOKEN_TYPE_ACCESS_TOKEN
    if requested not in REQUESTED_TOKEN_TYPES:
        raise InvalidRequestError(description="Unsupported requested_token_type.")
    return requested
