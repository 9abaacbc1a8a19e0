"""Who a token exchange is about (RFC 8693 §2.1 ``subject_token``, §4.1 ``actor_token``).

One verifier per ``subject_token_type``; each returns a typed :class:`Subject` without
deciding or writing any user yet:

* an upstream ID token or JWT assertion → a :class:`~authserver.identity.decision.Login`
  through the connection the client may use (:mod:`authserver.identity.federation`);
* one of our own access tokens → a :class:`HeldToken` (re-exchange: the client may only
  re-exchange a token issued to it, or one addressed to a chat backend it serves);
* an upstream access token → a ``Login`` through a connection that checks access tokens;
* a device session token → the anonymous user's :class:`~authserver.models.DeviceSession`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError, UnauthorizedClientError

from authserver.edge.jose_compact import peek_claim
from authserver.errors import TemporarilyUnavailableError, UnsupportedTokenTypeError
from authserver.identity.decision import Login
from authserver.identity.federation import SubjectTokenRefused, select_idp, verify_subject
from authserver.identity.sessions import find_active_session
from authserver.models import Client, DeviceSession
from authserver.models.user import ACTIVE
from authserver.plugin_api import (
    TOKEN_TYPE_ACCESS_TOKEN,
    TOKEN_TYPE_ID_TOKEN,
    TOKEN_TYPE_JWT,
    TOKEN_TYPE_SESSION,
    InvalidSubjectToken,
    UpstreamUnavailable,
)
from authserver.state import RealmContext
from authserver.tokens.access_tokens import active_claims
from authserver.tokens.reads import UserRow

log = logging.getLogger(__name__)
ACTOR_TOKEN_TYPES = (TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT)


@dataclass(frozen=True)
class HeldToken:
    """One of our own access tokens, presented for re-exchange: never more than it holds."""

    claims: dict[str, Any]
    user: UserRow

    @property
    def scopes(self) -> list[str]:
        return str(self.claims.get("scope", "")).split()

    @property
    def audience(self) -> str:
        return self.claims.get("aud")

    @property
    def client_id(self) -> str:
        return self.claims.get("client_id")

    @property
    def expires_at(self) -> int:
        return int(self.claims["exp"])


@dataclass(frozen=True)
class Subject:
    """The verified subject: exactly one of ``login``, ``held`` or ``session`` is set."""

    login: Login | None = None
    held: HeldToken | None = None
    session: DeviceSession | None = None


def verify(ctx: RealmContext, client: Client, token: str, token_type: str, idp_name: str | None,
           upgrade_token: str | None) -> Subject:
    """Step "verify the subject" of the exchange; raises RFC 8693 §2.2.2 errors."""
    if token_type == TOKEN_TYPE_SESSION:
        return Subject(session=_session(ctx, client, token))
    if token_type == TOKEN_TYPE_ACCESS_TOKEN and _is_ours(ctx, token):
        return Subject(held=_held_token(ctx, client, token))
    if token_type not in (TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_JWT, TOKEN_TYPE_ACCESS_TOKEN):
        raise UnsupportedTokenTypeError(description="Unsupported subject_token_type.")
    upgrade = _session(ctx, client, upgrade_token) if upgrade_token else None
    return Subject(login=_upstream_login(ctx, client, token, token_type, idp_name, upgrade))


def _upstream_login(ctx: RealmContext, client: Client, token: str, token_type: str,
                    idp_name: str | None, upgrade: DeviceSession | None) -> Login:
    """A token of an upstream IdP, verified by the connection the client may use."""
    try:
        idp = select_idp(ctx, client, token, token_type, idp_name)
        identity = verify_subject(ctx, client, idp, token, token_type)
    except InvalidSubjectToken as exc:
        log.info("subject token refused: %s", exc.detail or exc.description)
        raise InvalidRequestError(description=exc.description) from None
    except SubjectTokenRefused as exc:
        raise InvalidRequestError(description=exc.message) from None
    except UpstreamUnavailable as exc:
        log.warning("upstream identity provider unavailable: %s", exc)
        raise TemporarilyUnavailableError(description="The identity provider cannot be reached.") from None
    return Login(idp=idp, identity=identity, upgrade=upgrade)


def _session(ctx: RealmContext, client: Client, token: str) -> DeviceSession:
    session = find_active_session(ctx, client, token)
    if session is None:
        raise InvalidRequestError(description="The session token is not valid.")
    return session


def _is_ours(ctx: RealmContext, token: str) -> bool:
    return peek_claim(token, "iss", ctx.settings.max_subject_token_bytes) == ctx.issuer


def _held_token(ctx: RealmContext, client: Client, token: str) -> HeldToken:
    """RFC 8693 §2.2.2: a client re-exchanges only a token issued to it, or one addressed to a
    chat backend it serves (a resource server exchanging what it received)."""
    claims = active_claims(ctx, token)
    if claims is None or not isinstance(claims.get("uid"), str):
        raise InvalidRequestError(description="The subject token is not active.")
    if claims.get("client_id") != client.client_id and claims.get("aud") not in (client.serves or []):
        raise InvalidRequestError(description="The subject token was not issued to this client.")
    user = ctx.state.reads.user_by_uid(ctx.realm.id, claims["uid"])
    if user is None or user.state != ACTIVE:
        raise InvalidRequestError(description="The subject token is not active.")
    return HeldToken(claims=claims, user=user)


def verify_actor(ctx: RealmContext, client: Client, actor_token: str | None, actor_token_type: str | None,
                 subject_token: str) -> dict | None:
    """RFC 8693 §4.1 ``act``: the actor token must be one of ours representing the requesting
    client (its own service token, or a token issued to it), and differ from the subject."""
    if not actor_token:
        if actor_token_type:
            raise InvalidRequestError(description="actor_token_type without actor_token.")
        return None
    if actor_token_type not in ACTOR_TOKEN_TYPES:
        raise InvalidRequestError(description="actor_token_type must name an access token or JWT.")
    if not client.allow_delegation:
        raise UnauthorizedClientError(description="The client may not act for users.")
    if actor_token == subject_token:
        raise InvalidRequestError(description="The actor token must not be the subject token.")
    claims = active_claims(ctx, actor_token)
    if claims is None:
        raise InvalidRequestError(description="The actor token is not active.")
    if claims.get("client_id") != client.client_id:
        raise InvalidRequestError(description="The actor token must represent the requesting client.")
    act = {"sub": claims["sub"], "client_id": claims["client_id"]}
    if isinstance(claims.get("act"), dict):
        act["act"] = claims["act"]
    return act
