"""Explain an RFC 8693 token exchange: decided, not performed.

:func:`explain` runs the steps of :mod:`authserver.grants.token_exchange` over the same typed
request (:class:`~authserver.grants.token_exchange.ExchangeRequest`), with the same functions,
and stops where the exchange would stop, naming the error it would answer. It writes nothing:
the identity decision is only planned (:func:`~authserver.identity.decision.plan_login`), the
``jti`` only looked up (:meth:`~authserver.tokens.replay.DatabaseReplayCache.seen`), the claims
shaped and never signed (:func:`~authserver.tokens.issuance.shape_unsigned`); no usage is
counted, no event published, no audit entry made, and the session is rolled back at the end.
The subject token is never logged, stored, or repeated in the answer.

The steps, in the exchange's order: ``parse``, ``client`` (its credentials are not asked for),
``audience``, ``profile``, ``session`` (a device session to upgrade), ``connection`` (and for
each connection the client names, why it did or did not take the token), ``verify.*`` (the
connector's checks — ``signature``, ``iss``, ``aud``, ``exp``… — named from its own refusal),
``actor``, ``reexchange``, ``scopes``, ``replay``, ``identity`` (existing user, would create,
would link, refused — and the rule) and ``claims``.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from authlib.oauth2.rfc6749.errors import OAuth2Error
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from authserver.edge.jose_compact import MalformedToken, parse_compact, peek_claim
from authserver.errors import ServiceError
from authserver.extensions import db
from authserver.grants import token_exchange as exchange
from authserver.grants.explanation import (
    CHECKS,
    NEW_USER,
    OUTCOMES,
    SIGNATURE,
    Explanation,
    Stop,
    exchange_form,
)
from authserver.identity import subjects
from authserver.identity.decision import (
    Decision,
    Plan,
    ProvisioningRefused,
    apply_profile,
    merge_anonymous,
    plan_login,
)
from authserver.identity.federation import (
    SubjectTokenRefused,
    accepts,
    select_idp,
    single_use_key,
    verify_subject,
)
from authserver.identity.sessions import find_active_session
from authserver.identity.subjects import Subject
from authserver.models import Client, IdentityProvider, Realm, User
from authserver.models.user import ACTIVE
from authserver.plugin_api import (
    TOKEN_TYPE_ACCESS_TOKEN,
    TOKEN_TYPE_ID_TOKEN,
    TOKEN_TYPE_JWT,
    InvalidSubjectToken,
    PluginConfigError,
    UpstreamUnavailable,
)
from authserver.plugin_host.loader import connector_class
from authserver.registry.clients import GRANT_TOKEN_EXCHANGE, cached_client
from authserver.registry.idps import IDP_NAME
from authserver.registry.urls import realm_issuer
from authserver.state import RealmContext, app_state
from authserver.tokens.audience import resolve_backend
from authserver.tokens.issuance import Issuance, profile_for, shape_unsigned

T = TypeVar("T")

def explain_for(realm: Realm, body: dict[str, Any]) -> dict[str, Any]:
    """The admin API's and the CLI's entry: ``body`` holds the exchange's parameters and the
    ``client_id`` whose exchange it is (see :func:`exchange_form`)."""
    client_id, form = exchange_form(body)
    ctx = RealmContext(realm=realm, issuer=realm_issuer(realm.name), state=app_state())
    return explain(ctx, client_id, form).to_dict()


def explain(ctx: RealmContext, client_id: str, form: MultiDict) -> Explanation:
    """The exchange ``client_id`` would make with ``form``, step by step; nothing is written."""
    answer = Explanation(client_id)
    try:
        _Run(ctx, answer).run(client_id, form)
    except Stop:
        pass
    finally:
        db.session.rollback()  # nothing this run read may be written by anyone later
    return answer


class _Run:
    def __init__(self, ctx: RealmContext, answer: Explanation):
        self.ctx, self.answer = ctx, answer

    def run(self, client_id: str, form: MultiDict) -> None:
        ctx, answer = self.ctx, self.answer
        params = self.attempt("parse", lambda: exchange.ExchangeRequest.parse(ctx, form))      # 1
        answer.passed("parse", _describe(params))
        client = self.client(client_id)                                                       # 2
        backend = self.target(client, params)                                                 # 3
        profile = self.attempt("profile", lambda: profile_for(ctx, backend))
        answer.profile = {"name": profile.name, "issued_token_type": profile.issued_token_type}
        answer.passed("profile", f"{profile.name}: issues {profile.issued_token_type}")
        subject = self.subject(client, params)                                                # 4
        act = self.attempt("actor", lambda: subjects.verify_actor(
            ctx, client, params.actor_token, params.actor_token_type, params.subject_token))
        if params.actor_token:
            answer.passed("actor", f"delegation: the token would carry act {act}")
        if subject.held is not None:
            self.attempt("reexchange", lambda: exchange._check_reexchanged_audience(ctx, subject, backend))
            answer.passed("reexchange", f"{backend.audience!r} is an audience the subject token, or its client, had")
        scopes = self.scopes(params, client, backend, subject)                                # 5
        self.replay(subject)                                                                  # 6
        decision = self.identity(subject)                                                     # 7
        self.claims(Issuance(                                                                 # 8
            client=client, audience=backend.audience, scopes=scopes, ttl=backend.token_ttl, backend=backend,
            profile=profile, decision=decision, act=act, sid=exchange._sid(subject),
            workspace=exchange._workspace(subject),
            unverified={"workspace": params.workspace} if params.workspace else None,
            acl_request=subject.login.identity.acl if subject.login else None,
            not_after=subject.held.expires_at if subject.held else None), params)

    def attempt(self, name: str, call: Callable[[], T]) -> T:
        """``call()``, the exchange's own step; its refusal is this step's failure."""
        try:
            return call()
        except OAuth2Error as exc:
            raise self.answer.failed(name, exc.error, exc.description or exc.error) from None
        except ServiceError as exc:
            raise self.answer.failed(name, exc.error, exc.message) from None
        except PluginConfigError as exc:
            raise self.answer.failed(name, "temporarily_unavailable", f"misconfigured: {exc}") from None

    # --- 2, 3: the client and its target ------------------------------------------------

    def client(self, client_id: str) -> Client:
        client = cached_client(self.ctx.realm, client_id)
        if client is None:
            raise self.answer.failed("client", "invalid_client", "no such client in this realm")
        if client.disabled:
            raise self.answer.failed("client", "invalid_client", "the client is disabled")
        if not client.check_grant_type(GRANT_TOKEN_EXCHANGE):
            raise self.answer.failed("client", "unauthorized_client", "The client may not use token exchange.")
        self.answer.passed("client", f"may use token exchange ({client.auth_method}; explain does not "
                           "check the client's credentials)")
        return client

    def target(self, client: Client, params: exchange.ExchangeRequest):
        self.answer.audience = {"requested": params.audience, "client": list(client.audiences), "resolved": None}
        backend = self.attempt("audience", lambda: resolve_backend(self.ctx.realm, client, params.audience))
        self.answer.audience["resolved"] = backend.audience
        how = "requested" if params.audience else "the client's only audience"
        self.answer.passed("audience", f"chat backend {backend.audience!r} ({how})")
        return backend

    # --- 4: the subject -------------------------------------------------------------------

    def subject(self, client: Client, params: exchange.ExchangeRequest) -> Subject:
        ctx, token, kind = self.ctx, params.subject_token, params.subject_token_type
        upstream = kind in (TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_JWT) or (
            kind == TOKEN_TYPE_ACCESS_TOKEN and not subjects._is_ours(ctx, token))
        if upstream:
            self.survey(client, params)
        try:
            subject = subjects.verify(ctx, client, token, kind, params.idp, params.session_token)
        except (OAuth2Error, ServiceError) as exc:
            refusal = exc.error, (exc.description if isinstance(exc, OAuth2Error) else exc.message) or exc.error
            if upstream:
                self.diagnose(client, params, *refusal)  # the step, in the connector's own words
            raise self.answer.failed("subject", *refusal) from None
        if subject.login is not None:
            self.verified_login(subject, params)
        elif subject.held is not None:
            held = subject.held
            self.answer.passed("verify.active", f"one of our access tokens, active: client {held.client_id!r}, "
                               f"aud {held.audience!r}, scope {' '.join(held.scopes)!r}, user {held.user.uid}")
        else:
            user = db.session.get(User, subject.session.user_pk)
            self.answer.passed("verify.session", f"an active device session of anonymous user {user.uid}")
        return subject

    def survey(self, client: Client, params: exchange.ExchangeRequest) -> None:
        """For each connection the client names (and the one the request names), whether it
        would take this token, and if not, why."""
        names = list(dict.fromkeys([*client.idps, *([params.idp] if params.idp else [])]))
        rows = {idp.name: idp for idp in db.session.scalars(select(IdentityProvider).where(
            IdentityProvider.realm_id == self.ctx.realm.id,
            IdentityProvider.name.in_([n for n in names if IDP_NAME.match(n)])))}
        issuer = None
        if params.subject_token_type != TOKEN_TYPE_ACCESS_TOKEN:
            issuer = peek_claim(params.subject_token, "iss", self.ctx.settings.max_subject_token_bytes)
        for name in names:
            result, detail = self.verdict(client, rows.get(name), name, params, issuer)
            self.answer.connections.append({"name": name, "type": rows[name].type if name in rows else None,
                                            "result": result, "detail": detail})

    def verdict(self, client: Client, idp: IdentityProvider | None, name: str,
                params: exchange.ExchangeRequest, issuer: str | None) -> tuple[str, str]:
        kind = params.subject_token_type
        if idp is None:
            return "missing", "no such connection in this realm"
        if name not in client.idps:
            return "not allowed", "the client may not use this connection (it is not among the client's idps)"
        if idp.disabled:
            return "disabled", "the connection is disabled"
        if params.idp is not None:
            named = params.idp == name
            return ("named", "named by the request's idp") if named else \
                ("not requested", f"the request names the connection {params.idp!r}")
        try:
            cls = connector_class(idp.type)
            if kind not in cls.subject_token_types:
                return "wrong token type", f"a {idp.type} connection takes {', '.join(sorted(cls.subject_token_types))}"
            if not accepts(self.ctx, idp, kind, issuer):
                expected = idp.client_id if cls.signed_by_client else self.ctx.state.connectors.connector(idp).issuer()
                return "iss mismatch", f"the token's iss {issuer!r} is not the connection's {expected!r}"
        except PluginConfigError as exc:
            return "misconfigured", str(exc)
        return "accepts", f"takes {kind} tokens with this iss"

    def diagnose(self, client: Client, params: exchange.ExchangeRequest, error: str, description: str) -> None:
        """Which step of :func:`subjects.verify` refused an upstream token (with ``error`` and
        ``description``), and what the connector said, which the exchange only logs; raises it."""
        ctx, token, kind = self.ctx, params.subject_token, params.subject_token_type
        if params.session_token and find_active_session(ctx, client, params.session_token) is None:
            raise self.answer.failed("session", error, description)
        try:
            idp = select_idp(ctx, client, token, kind, params.idp)
        except (SubjectTokenRefused, PluginConfigError) as exc:
            raise self.answer.failed("connection", error, description, str(exc)) from None
        self.matched(idp)
        try:
            verify_subject(ctx, client, idp, token, kind)
        except InvalidSubjectToken as exc:
            said = exc.detail or exc.description
            check = _check_named(said)
            if check is not None and [n for n, _ in CHECKS].index(check) > SIGNATURE:
                self.answer.passed("verify.signature", f"verified by the {idp.type} connection {idp.name!r}")
            raise self.answer.failed(f"verify.{check}" if check else "verify", error, description, said) from None
        except (SubjectTokenRefused, UpstreamUnavailable) as exc:
            raise self.answer.failed("verify", error, description, str(exc) or description) from None

    def matched(self, idp: IdentityProvider) -> None:
        self.answer.connection = idp.name
        for row in self.answer.connections:
            if row["name"] == idp.name:
                row["result"] = "matched"
        self.answer.passed("connection", f"{idp.name!r} ({idp.type}, trust {idp.trust}, "
                           f"provisioning {idp.provisioning})")

    def verified_login(self, subject: Subject, params: exchange.ExchangeRequest) -> None:
        login, answer = subject.login, self.answer
        if login.upgrade is not None:
            answer.passed("session", "a live device session of an anonymous user: this login upgrades it")
        self.matched(login.idp)
        try:
            jws = parse_compact(params.subject_token, self.ctx.settings.max_subject_token_bytes)
        except MalformedToken:  # an opaque upstream access token, vouched for at the userinfo endpoint
            answer.passed("verify.userinfo", f"the provider of {login.idp.name!r} vouches for sub "
                          f"{login.identity.subject!r}")
            return
        header, claims, now, skew = jws.header, jws.payload, self.ctx.now(), self.ctx.settings.clock_skew
        answer.passed("verify.signature", f"{header.get('alg')} signature, key {header.get('kid')!r}, "
                      f"verified by the {login.idp.type} connection {login.idp.name!r}")
        if "typ" in header:
            answer.passed("verify.typ", f"typ {header['typ']!r}")
        answer.passed("verify.iss", f"iss {claims.get('iss')!r}")
        answer.passed("verify.aud", f"aud {claims.get('aud')!r}")
        answer.passed("verify.exp", f"exp {claims.get('exp')}: {_seconds(claims.get('exp'), now)} from now "
                      f"(clock skew {skew} s)")
        for name in ("nbf", "iat"):
            if name in claims:
                answer.passed(f"verify.{name}", f"{name} {claims[name]}: {_seconds(now, claims[name])} ago")
        if "nonce" in claims:
            answer.passed("verify.nonce", "present; a token exchange has no authorization request to match")
        answer.passed("verify.sub", f"sub {login.identity.subject!r}")

    # --- 5, 6: scopes and the single-use jti -----------------------------------------------

    def scopes(self, params, client: Client, backend, subject: Subject) -> list[str]:
        self.answer.scopes = {"requested": params.scope, "client": list(client.scopes),
                              "backend": list(backend.scopes), "backend_defaults": list(backend.default_scopes),
                              "held": subject.held.scopes if subject.held else None, "granted": None}
        granted = self.attempt("scopes", lambda: exchange._granted_scopes(params.scope, client, backend, subject))
        self.answer.scopes["granted"] = granted
        rule = "requested" if params.scope is not None else "backend defaults"
        held = " ∩ the subject token's" if subject.held else ""
        self.answer.passed("scopes", f"{' '.join(granted)}: {rule} ∩ client's ∩ backend's{held}")
        return granted

    def replay(self, subject: Subject) -> None:
        login = subject.login
        key = single_use_key(self.ctx, login.idp, login.identity) if login else None
        if key is None:
            if login is not None:
                self.answer.passed("replay", "not a single-use token")
            return
        if self.ctx.state.replay.seen(key):
            raise self.answer.failed("replay", "invalid_request", "the subject token has already been used")
        self.answer.passed("replay", "its jti is unused: the exchange would spend it (explain does not)")

    # --- 7, 8: the identity and the claims ------------------------------------------------

    def identity(self, subject: Subject) -> Decision:
        if subject.login is None:  # a re-exchange, or a device session: the user is known, nothing written
            decision = self.attempt("identity", lambda: exchange._decide(self.ctx, subject))
            self.answer.identity = {"outcome": OUTCOMES["existing"], "rule": decision.rule, "steps": [],
                                    "user": _user(decision.user)}
        else:
            try:
                plan = plan_login(self.ctx, subject.login)
                decision = _previewed(plan)
            except ProvisioningRefused as exc:
                self.answer.identity = {"outcome": "refused", "rule": exc.rule, "steps": [], "user": None}
                raise self.answer.failed("identity", exc.error, f"rule {exc.rule}: {exc.message}") from None
            self.answer.identity = {"outcome": OUTCOMES[plan.outcome], "rule": plan.rule, "steps": list(plan.steps),
                                    "user": _user(decision.user)}
        who = decision.user
        whom = f"a new user, user_id {who.user_id!r}" if who.uid == NEW_USER else f"user {who.uid}"
        self.answer.passed("identity", f"{self.answer.identity['outcome']} (rule {decision.rule}): {whom}")
        return decision

    def claims(self, issuance: Issuance, params: exchange.ExchangeRequest) -> None:
        header, claims, issued_type = self.attempt("claims", lambda: shape_unsigned(self.ctx, issuance))
        if params.requested_token_type == TOKEN_TYPE_JWT:
            issued_type = TOKEN_TYPE_JWT
        self.answer.token = {"header": header, "claims": claims, "issued_token_type": issued_type, "signed": False}
        self.answer.passed("claims", f"a {issuance.profile.name} token for sub {claims.get('sub')!r} "
                           f"(unsigned: explain signs nothing)")


def _previewed(plan: Plan) -> Decision:
    """The decision :func:`~authserver.identity.decision.apply_plan` would return, made on
    copies of the rows: the user as this login would leave it, and nobody written."""
    idp, identity = plan.login.idp, plan.login.identity
    anonymous = _copy(plan.anonymous)
    if plan.outcome == "assigned":
        user = anonymous
        user.user_id, user.verified = plan.user_id, idp.verified
    elif plan.outcome == "created":
        user = User(uid=NEW_USER, user_id=plan.user_id, verified=idp.verified, workspaces=[], state=ACTIVE)
    else:
        user = _copy(plan.user)
        if plan.outcome == "merged":
            merge_anonymous(anonymous, user)
    apply_profile(user, idp, identity)
    return Decision(user=user, outcome=plan.outcome, rule=plan.rule, verified=user.verified and idp.verified,
                    idp=idp.name, upgraded_from=anonymous.uid if anonymous else None, identity=identity)


def _copy(row) -> User | None:
    """A detached, never-added ``User`` holding ``row``'s values (a row as read, or a model)."""
    if row is None:
        return None
    values = dataclasses.asdict(row) if dataclasses.is_dataclass(row) else \
        {column.key: getattr(row, column.key) for column in User.__table__.columns}
    return User(**copy.deepcopy(values))


def _user(user) -> dict[str, Any] | None:
    return {"_id": user.uid, "user_id": user.user_id} if user is not None else None


def _check_named(said: str) -> str | None:
    said = said.lower()
    return next((name for name, words in CHECKS if any(word in said for word in words)), None)


def _seconds(later: Any, earlier: Any) -> str:
    if not isinstance(later, int) or not isinstance(earlier, int):
        return "?"
    return f"{later - earlier} s"


def _describe(params: exchange.ExchangeRequest) -> str:
    parts = [f"subject_token_type {params.subject_token_type}",
             f"audience {params.audience!r}" if params.audience else "no audience",
             f"scope {' '.join(params.scope)!r}" if params.scope else "no scope",
             f"requested_token_type {params.requested_token_type}"]
    parts += [f"{name} given" for name in ("actor_token", "session_token") if getattr(params, name)]
    if params.idp:
        parts.append(f"idp {params.idp!r}")
    return "; ".join(parts)
