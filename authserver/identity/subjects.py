"""Who a token exchange is about: the subject token, verified and mapped to a chat user.

One resolver per ``subject_token_type`` (RFC 8693 §3): upstream tokens go through the
realm's IdP connections; further resolvers (device sessions, our own tokens) plug in here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError, UnauthorizedClientError
from sqlalchemy import select

from authserver.errors import TemporarilyUnavailableError, UnsupportedTokenTypeError
from authserver.extensions import db
from authserver.identity.federation import (
    SubjectTokenRefused,
    select_idp,
    verification_request,
    verify_subject,
)
from authserver.identity.federation import (
    unverified_issuer as _unverified_issuer,
)
from authserver.identity.sessions import find_active_session
from authserver.identity.users import resolve_user
from authserver.models import Client, Realm, User
from authserver.models.user import ACTIVE
from authserver.plugin_api import (
    MAX_SUBJECT_TOKEN_BYTES,
    TOKEN_TYPE_ACCESS_TOKEN,
    TOKEN_TYPE_ID_TOKEN,
    TOKEN_TYPE_JWT,
    TOKEN_TYPE_SESSION,
    InvalidSubjectToken,
    UpstreamUnavailable,
)
from authserver.state import services
from authserver.tokens.issued import active_claims

log = logging.getLogger(__name__)


@dataclass
class Subject:
    user: User
    idp: str | None
    sid: str | None = None
    workspace: str | None = None
    acl: tuple | None = None
    held_scopes: list[str] | None = None  # re-exchange of our own token: never more than these
    held_audience: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def read_subject_token(form) -> tuple[str, str]:
    token, token_type = form.get("subject_token"), form.get("subject_token_type")
    if not token or not token_type:
        raise InvalidRequestError(description="subject_token and subject_token_type are required.")
    if len(token.encode()) > MAX_SUBJECT_TOKEN_BYTES:
        raise InvalidRequestError(description="The subject token is too large.")
    return token, token_type


def resolve_subject(realm: Realm, issuer: str, client: Client, token: str, token_type: str,
                    form) -> Subject:
    resolver = RESOLVERS.get(token_type)
    if resolver is None:
        raise UnsupportedTokenTypeError(description="Unsupported subject_token_type.")
    return resolver(realm, issuer, client, token, token_type, form)


def upstream_subject(realm: Realm, issuer: str, client: Client, token: str, token_type: str,
                     form) -> Subject:
    """A token of an upstream IdP: verified by its connection, mapped to a user."""
    try:
        idp = select_idp(realm, client, token, token_type, form.get("idp"))
        request = verification_request(realm, issuer, client, idp)
        identity = verify_subject(services().connectors, idp, token, token_type, request)
    except InvalidSubjectToken as exc:
        log.info("subject token refused: %s", exc.detail or exc.description)
        raise InvalidRequestError(description=exc.description) from None
    except SubjectTokenRefused as exc:
        raise InvalidRequestError(description=exc.message) from None
    except UpstreamUnavailable as exc:
        log.warning("upstream identity provider unavailable: %s", exc)
        raise TemporarilyUnavailableError(description="The identity provider cannot be reached.") from None
    adopt = _session_to_upgrade(realm, client, form)
    user, outcome = resolve_user(realm, idp, identity, adopt=adopt)
    extra = {"upgrade": {"outcome": outcome, "from": adopt_uid}} if (adopt_uid := _uid(adopt)) else {}
    return Subject(user=user, idp=idp.name, workspace=identity.workspace, acl=identity.acl, extra=extra)


def _session_to_upgrade(realm: Realm, client: Client, form):
    """The anonymous device session this login upgrades (``session_token`` extension)."""
    token = form.get("session_token")
    if not token:
        return None
    session = find_active_session(realm, client, token)
    if session is None:
        raise InvalidRequestError(description="The session token is not valid.")
    return session


def _uid(session) -> str | None:
    if session is None:
        return None
    return db.session.get(User, session.user_pk).uid


def session_subject(realm: Realm, issuer: str, client: Client, token: str, token_type: str,
                    form) -> Subject:
    """An anonymous device session: fresh tokens for its user while it stays anonymous."""
    session = find_active_session(realm, client, token)
    if session is None:
        raise InvalidRequestError(description="The session token is not valid.")
    return Subject(user=db.session.get(User, session.user_pk), idp=None, sid=session.sid)


def access_token_subject(realm: Realm, issuer: str, client: Client, token: str, token_type: str,
                         form) -> Subject:
    """One of our own tokens (re-scoping, never widening), else an upstream access token."""
    if _unverified_issuer(token) != issuer:
        return upstream_subject(realm, issuer, client, token, token_type, form)
    claims = active_claims(realm, issuer, token)
    if claims is None or "uid" not in claims:
        raise InvalidRequestError(description="The subject token is not active.")
    user = db.session.scalar(select(User).where(User.realm_id == realm.id, User.uid == claims["uid"]))
    if user is None or user.state != ACTIVE:
        raise InvalidRequestError(description="The subject token is not active.")
    return Subject(user=user, idp=claims.get("idp"), sid=claims.get("sid"),
                   workspace=claims.get("workspace"),
                   held_scopes=str(claims.get("scope", "")).split(),
                   held_audience=claims.get("aud"), extra={"held_client": claims.get("client_id")})


def actor_claim(realm: Realm, issuer: str, client: Client, form) -> dict | None:
    """RFC 8693 §4.1 ``act``: who acts for the subject, from an ``actor_token`` of ours."""
    token = form.get("actor_token")
    if not token:
        if form.get("actor_token_type"):
            raise InvalidRequestError(description="actor_token_type without actor_token.")
        return None
    if form.get("actor_token_type") not in (TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_JWT):
        raise InvalidRequestError(description="actor_token_type must name an access token or JWT.")
    if not client.allow_delegation:
        raise UnauthorizedClientError(description="The client may not act for users.")
    claims = active_claims(realm, issuer, token)
    if claims is None:
        raise InvalidRequestError(description="The actor token is not active.")
    act = {"sub": claims["sub"]}
    if claims.get("client_id"):
        act["client_id"] = claims["client_id"]
    if isinstance(claims.get("act"), dict):
        act["act"] = claims["act"]
    return act


RESOLVERS = {
    TOKEN_TYPE_ID_TOKEN: upstream_subject,
    TOKEN_TYPE_JWT: upstream_subject,
    TOKEN_TYPE_ACCESS_TOKEN: access_token_subject,
    TOKEN_TYPE_SESSION: session_subject,
}
