"""The core's decision about a user token: every claim the profiles may use, with the
lifetime capped and a fresh ``jti``."""

from __future__ import annotations

from authserver.identity.subjects import Subject
from authserver.models import ChatBackend, Client
from authserver.plugin_api import GrantedToken, TokenProfile
from authserver.state import services
from authserver.tokens import acl
from authserver.tokens.signing import lifetime, new_jti


def build_granted_token(issuer: str, client: Client, backend: ChatBackend, subject: Subject,
                        scopes: list[str], profile: TokenProfile) -> GrantedToken:
    user = subject.user
    now = int(services().clock())
    ttl = lifetime(backend.token_ttl)
    if profile.max_lifetime:
        ttl = min(ttl, profile.max_lifetime)
    filled = acl.fill_template(backend.acl_template, user.user_id, user.uid)
    return GrantedToken(
        issuer=issuer, subject=user.user_id or user.uid, audience=backend.audience,
        client_id=client.client_id, scopes=tuple(scopes), issued_at=now, expires_at=now + ttl,
        jti=new_jti(), uid=user.uid, identified=user.identified, verified=user.verified,
        idp=subject.idp, name=user.name, given_name=user.given_name, family_name=user.family_name,
        email=user.email, custom=user.custom, unverified=user.unverified,
        acl=_as_tuple(acl.restrict(subject.acl, filled)), workspace=subject.workspace,
        act=subject.extra.get("act"), sid=subject.sid)


def _as_tuple(rules):
    return tuple(rules) if rules else None
