"""What the authorization code and refresh token grants answer (OIDC Core §3.1.3.3): the
chat JWT for the backend (through :func:`authserver.tokens.issuance.issue`, the one issuance
function), an ID token for the client, and the next refresh token when the client may have
one. The user is read fresh: a disabled, merged or erased user gets nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc6749.errors import InvalidGrantError
from sqlalchemy import select

from authserver.extensions import db
from authserver.identity.decision import Decision
from authserver.models import Client, IdentityProvider, RefreshToken, User
from authserver.models.user import ACTIVE
from authserver.registry.clients import GRANT_REFRESH_TOKEN
from authserver.state import RealmContext
from authserver.tokens import refresh
from authserver.tokens.audience import resolve_backend
from authserver.tokens.id_token import IdTokenFacts, sign_id_token
from authserver.tokens.issuance import Issuance, issue, profile_for


@dataclass(frozen=True)
class Grant:
    """What a code or a refresh token stands for."""

    user_pk: int
    scopes: list[str]
    audience: str
    auth_time: int
    browser_sid: str | None
    idp_name: str | None
    nonce: str | None = None


@dataclass(frozen=True)
class Answered:
    body: dict
    access_jti: dict | None  # {"jti", "exp"} of the chat JWT, when it is one of ours
    refresh_family: str | None


def active_user(ctx: RealmContext, user_pk: int) -> User:
    user = db.session.get(User, user_pk)
    if user is None or user.realm_id != ctx.realm.id or user.state != ACTIVE:
        raise InvalidGrantError(description="The user is no longer active.")
    return user


def answer(ctx: RealmContext, client: Client, grant: Grant, *, previous: RefreshToken | None = None,
           with_id_token: bool = True) -> Answered:
    """Issue and commit (with whatever the caller already wrote: the spent code or token)."""
    user = active_user(ctx, grant.user_pk)
    backend = resolve_backend(ctx.realm, client, grant.audience)
    profile = profile_for(ctx, backend)
    verified = bool(user.verified) and _idp_verified(ctx, grant.idp_name)
    refresh_token = family = None
    if client.check_grant_type(GRANT_REFRESH_TOKEN) and "openid" in grant.scopes:
        refresh_token, row = refresh.issue_refresh_token(
            ctx, client, user_pk=user.id, scopes=grant.scopes, audience=backend.audience, auth_time=grant.auth_time,
            browser_sid=grant.browser_sid, idp_name=grant.idp_name, previous=previous)
        family = row.family
    decision = Decision(user=user, outcome="existing", rule="browser_login", verified=verified, idp=grant.idp_name)
    issued = issue(ctx, Issuance(client=client, audience=backend.audience, scopes=list(grant.scopes),
                                 ttl=backend.token_ttl, backend=backend, profile=profile, decision=decision,
                                 sid=grant.browser_sid))
    body = {**issued.bearer_response(), "scope": " ".join(grant.scopes)}
    if with_id_token:
        body["id_token"] = sign_id_token(ctx, IdTokenFacts(
            client_id=client.client_id, user=user, scopes=grant.scopes, auth_time=grant.auth_time,
            nonce=grant.nonce, access_token=issued.token, sid=grant.browser_sid, verified=verified))
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    access_jti = {"jti": issued.jti, "exp": issued.exp} if issued.jti is not None else None
    return Answered(body, access_jti, family)


def _idp_verified(ctx: RealmContext, idp_name: str | None) -> bool:
    if idp_name is None:
        return False
    idp = db.session.scalars(select(IdentityProvider).where(IdentityProvider.realm_id == ctx.realm.id,
                                                            IdentityProvider.name == idp_name)).first()
    return idp is not None and idp.verified
