"""RFC 8693 OAuth 2.0 Token Exchange: an upstream token in, a scoped chat token out.

The grant reads top to bottom as the steps of the token path, over one typed request:

1. parse              :class:`ExchangeRequest` from the strictly parsed form (§2.1)
2. authenticate       the client, as registered; it must be allowed this grant
3. resolve the target ``audience``/``resource`` → a chat backend the client may target
4. verify the subject the subject token (and actor token) — no user decided yet
5. grant scopes       requested ∩ client's ∩ backend's, never more than a re-exchanged token held
6. spend              a single-use assertion's ``jti``, once every check has passed
7. decide the identity the one identity decision: trust, link, provision, upgrade, merge
8. shape, sign, count :func:`authserver.tokens.issuance.issue` (one transaction)
9. answer             RFC 8693 §2.2.1
"""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc6749.errors import (
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.grants import BaseGrant, TokenEndpointMixin

from authserver.errors import InvalidTargetError
from authserver.extensions import db
from authserver.identity import subjects
from authserver.identity.decision import Decision, ProvisioningRefused, decide_login
from authserver.identity.federation import single_use_key
from authserver.identity.subjects import Subject
from authserver.models import ChatBackend, Client, User
from authserver.plugin_api import TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT
from authserver.registry.clients import GRANT_TOKEN_EXCHANGE, cached_client
from authserver.state import RealmContext
from authserver.tokens.audience import requested_target, resolve_backend
from authserver.tokens.issuance import Issuance, issue, profile_for
from authserver.tokens.scopes import grant_scopes, narrow_scopes, parse_scope

REQUESTED_TOKEN_TYPES = (TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT)
MAX_PARAMETER = 255


@dataclass(frozen=True)
class ExchangeRequest:
    """RFC 8693 §2.1 parameters, typed and bounded (unknown parameters are ignored, §2.1)."""

    subject_token: str
    subject_token_type: str
    audience: str | None
    scope: list[str] | None
    requested_token_type: str
    actor_token: str | None
    actor_token_type: str | None
    session_token: str | None  # extension: the anonymous device session this login upgrades
    idp: str | None  # extension: the connection that must verify the subject token
    workspace: str | None  # extension: a workspace the client states (non-verified)

    @classmethod
    def parse(cls, ctx: RealmContext, form) -> ExchangeRequest:
        limit = ctx.settings.max_subject_token_bytes
        token, token_type = form.get("subject_token"), form.get("subject_token_type")
        if not token or not token_type:
            raise InvalidRequestError(description="subject_token and subject_token_type are required.")
        requested = form.get("requested_token_type") or TOKEN_TYPE_ACCESS_TOKEN
        if requested not in REQUESTED_TOKEN_TYPES:
            raise InvalidRequestError(description="Unsupported requested_token_type.")
        return cls(subject_token=_bounded(token, "subject_token", limit),
                   subject_token_type=_bounded(token_type, "subject_token_type"),
                   audience=requested_target(form), scope=parse_scope(form.get("scope")),
                   requested_token_type=requested,
                   actor_token=_bounded(form.get("actor_token"), "actor_token", limit),
                   actor_token_type=_bounded(form.get("actor_token_type"), "actor_token_type"),
                   session_token=_bounded(form.get("session_token"), "session_token"),
                   idp=_bounded(form.get("idp"), "idp"), workspace=_bounded(form.get("workspace"), "workspace"))


def _bounded(value: str | None, name: str, limit: int = MAX_PARAMETER) -> str | None:
    if value is not None and len(value.encode()) > limit:
        raise InvalidRequestError(description=f"The {name} parameter is too large.")
    return value or None


class TokenExchangeGrant(BaseGrant, TokenEndpointMixin):
    GRANT_TYPE = GRANT_TOKEN_EXCHANGE
    TOKEN_ENDPOINT_AUTH_METHODS = ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]

    def validate_token_request(self) -> None:
        ctx = self.request.realm_ctx
        self.params = params = ExchangeRequest.parse(ctx, self.request.form)                  # 1
        client = self._authenticate()                                                          # 2
        self.backend = resolve_backend(ctx.realm, client, params.audience)                     # 3
        self.profile = profile_for(ctx, self.backend)
        self.subject = subjects.verify(ctx, client, params.subject_token,                       # 4
                                       params.subject_token_type, params.idp, params.session_token)
        self.act = subjects.verify_actor(ctx, client, params.actor_token, params.actor_token_type,
                                         params.subject_token)
        _check_reexchanged_audience(ctx, self.subject, self.backend)
        self.scopes = _granted_scopes(params.scope, client, self.backend, self.subject)         # 5

    def create_token_response(self):
        ctx, params, subject = self.request.realm_ctx, self.params, self.subject
        _spend_single_use(ctx, subject)                                                         # 6
        decision = _decide(ctx, subject)                                                        # 7
        issued = issue(ctx, Issuance(                                                           # 8
            client=self.request.client, audience=self.backend.audience, scopes=self.scopes,
            ttl=self.backend.token_ttl, backend=self.backend, profile=self.profile, decision=decision,
            act=self.act, sid=_sid(subject), workspace=_workspace(subject),
            unverified={"workspace": params.workspace} if params.workspace else None,
            acl_request=subject.login.identity.acl if subject.login else None,
            not_after=subject.held.expires_at if subject.held else None))
        return 200, _answer(issued, params, decision), self.TOKEN_RESPONSE_HEADER               # 9

    def _authenticate(self) -> Client:
        client = self.authenticate_token_endpoint_client()
        if not client.check_grant_type(self.GRANT_TYPE):
            raise UnauthorizedClientError(description="The client may not use token exchange.")
        self.request.client = client
        return client


def _check_reexchanged_audience(ctx: RealmContext, subject: Subject, backend: ChatBackend) -> None:
    """Re-exchanging one of our tokens: only an audience it, or its client, already had."""
    held = subject.held
    if held is None or backend.audience == held.audience:
        return
    held_client = cached_client(ctx.realm, held.client_id or "")
    if held_client is None or backend.audience not in held_client.audiences:
        raise InvalidTargetError(description="The subject token was not issued for this audience.")


def _granted_scopes(requested: list[str] | None, client: Client, backend: ChatBackend,
                    subject: Subject) -> list[str]:
    granted = grant_scopes(requested, client.scopes, backend.scopes, backend.default_scopes)
    if subject.held is None:
        return granted
    narrowed = narrow_scopes(requested, [s for s in subject.held.scopes if s in granted])
    if not narrowed:
        raise InvalidScopeError(description="The subject token holds none of these scopes.")
    return narrowed


def _spend_single_use(ctx: RealmContext, subject: Subject) -> None:
    """RFC 7523 §3 item 7: a single-use assertion works once, in every process at once."""
    login = subject.login
    key = single_use_key(ctx, login.idp, login.identity) if login else None
    if key is None:
        return
    expires_at = (login.identity.expires_at or ctx.now()) + ctx.settings.clock_skew
    if not ctx.state.replay.claim(key, expires_at):
        raise InvalidRequestError(description="the subject token has already been used")


def _decide(ctx: RealmContext, subject: Subject) -> Decision:
    try:
        if subject.login is not None:
            return decide_login(ctx, subject.login)
    except ProvisioningRefused as exc:
        raise InvalidGrantError(description=exc.message) from None
    if subject.held is not None:
        claims = subject.held.claims
        return Decision(user=subject.held.user, outcome="existing", rule="reexchange",
                        verified=bool(claims.get("verified")) and subject.held.user.verified,
                        idp=claims.get("idp"))
    return Decision(user=_session_user(subject), outcome="existing", rule="session", verified=False)


def _session_user(subject: Subject) -> User:
    return db.session.get(User, subject.session.user_pk)


def _sid(subject: Subject) -> str | None:
    if subject.session is not None:
        return subject.session.sid
    return subject.held.claims.get("sid") if subject.held else None


def _workspace(subject: Subject) -> str | None:
    """A verified workspace: from a trusted login, or carried by a re-exchanged token."""
    if subject.login is not None:
        return subject.login.identity.workspace if subject.login.idp.verified else None
    return subject.held.claims.get("workspace") if subject.held else None


def _answer(issued, params: ExchangeRequest, decision: Decision) -> dict:
    body = issued.bearer_response()
    if params.requested_token_type == TOKEN_TYPE_JWT:
        body["issued_token_type"] = TOKEN_TYPE_JWT
    if decision.upgraded_from is not None:
        body["upgrade"] = {"outcome": decision.outcome, "from": decision.upgraded_from, "_id": decision.user.uid}
    return body
