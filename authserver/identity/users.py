"""Subject mapping: ``(realm, idp, subject)`` → one stable chat user, and the user admin.

``_id`` (``uid``) is server-assigned and immutable; ``user_id`` is derived by the
connection's rule, unique in the realm, set once and never given to another person.
Two concurrent first logins of one subject create one user: the unique link decides, and
the loser re-reads the winner's row.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from authserver.errors import InvalidInput, NotFound, ServiceError
from authserver.extensions import db
from authserver.models import DeviceSession, IdentityLink, IdentityProvider, Realm, User
from authserver.models.user import ACTIVE, DISABLED, MERGED
from authserver.plugin_api import Identity
from authserver.registry import audit
from authserver.registry.idps import BACKEND_ASSERTION
from authserver.state import services

PROFILE_FIELDS = ("given_name", "family_name", "name", "email", "picture")
TOUCH_INTERVAL = 300  # seconds between last-seen writes for one user
VOLATILE_CLAIMS = frozenset({"iat", "exp", "nbf", "jti", "nonce", "at_hash", "c_hash", "auth_time",
                             "sid", "s_hash", "rt_hash"})
TEMPLATE_FIELD = re.compile(r"\{([A-Za-z0-9_.:-]+)\}")


class ProvisioningRefused(ServiceError):
    """The subject is genuine but may not become (or reach) a chat user here."""

    error = "invalid_grant"


def new_uid() -> str:
    return secrets.token_hex(12)


def get_user(realm: Realm, key: str) -> User:
    """By ``_id`` or by ``user_id``."""
    user = db.session.scalar(select(User).where(User.realm_id == realm.id, User.uid == key)) \
        or db.session.scalar(select(User).where(User.realm_id == realm.id, User.user_id == key))
    if user is None:
        raise NotFound(f"no user {key!r} in realm {realm.name!r}")
    return user


def list_users(realm: Realm, limit: int = 1000) -> list[User]:
    query = select(User).where(User.realm_id == realm.id).order_by(User.id).limit(limit)
    return list(db.session.scalars(query))


def set_user_disabled(realm: Realm, key: str, disabled: bool, actor: str) -> User:
    user = get_user(realm, key)
    if user.state == MERGED:
        raise InvalidInput(f"user {key!r} was merged into {user.merged_into}")
    before = user.to_dict()
    user.state = DISABLED if disabled else ACTIVE
    audit.record(realm, actor, "user.disable" if disabled else "user.enable", "user", user.uid,
                 before=before, after=user.to_dict())
    db.session.commit()
    return user


def resolve_user(realm: Realm, idp: IdentityProvider, identity: Identity,
                 adopt: DeviceSession | None = None) -> tuple[User, str | None]:
    """The user this verified identity maps to, provisioned if the policy allows.

    With ``adopt`` (a device session of an anonymous user, being upgraded by this login),
    that user receives the ``user_id`` if nobody holds it yet ("assigned"), or is merged
    into the user who does ("merged"); either way the session ends. Returns the user and
    that outcome (None without ``adopt``).
    """
    anonymous = db.session.get(User, adopt.user_pk) if adopt is not None else None
    outcome = None
    link, user = _find_link_and_user(realm, idp, identity.subject)
    if link is None:
        try:
            link = _provision(realm, idp, identity, anonymous)
            if anonymous is not None and link.user_pk == anonymous.id:
                outcome = "assigned"
                end_session(adopt)
            db.session.commit()
        except (IntegrityError, ProvisioningRefused) as exc:
            db.session.rollback()  # a concurrent first login may have won; use its rows
            link = _find_link(realm, idp, identity.subject)
            if link is None and isinstance(exc, ProvisioningRefused):
                raise
            if link is None:
                raise ProvisioningRefused("the user_id for this subject belongs to another user") from None
        user = db.session.get(User, link.user_pk)
    _check_usable(user)
    if anonymous is not None and outcome is None:
        merge_into(anonymous, user, adopt)
        outcome = "merged"
    _refresh(user, link, idp, identity)
    return user, outcome


def end_session(session: DeviceSession) -> None:
    """Mark a device session ended in the current transaction (the caller commits)."""
    session.ended_at = int(services().clock())


def merge_into(anonymous: User, target: User, session: DeviceSession) -> None:
    """One transaction: the anonymous user points at ``target``, its session ends."""
    if anonymous.identified:
        raise ProvisioningRefused("an identified user is never reassigned")
    anonymous.state, anonymous.merged_into = MERGED, target.uid
    if anonymous.unverified and not target.unverified:
        target.unverified = anonymous.unverified
    end_session(session)
    db.session.commit()


def _find_link_and_user(realm: Realm, idp: IdentityProvider, subject: str) -> tuple:
    """The link and its user in one round trip, or (None, None)."""
    row = db.session.execute(select(IdentityLink, User).join(User, User.id == IdentityLink.user_pk).where(
        IdentityLink.realm_id == realm.id, IdentityLink.idp_id == idp.id,
        IdentityLink.subject == subject)).first()
    return (row[0], row[1]) if row else (None, None)


def _find_link(realm: Realm, idp: IdentityProvider, subject: str) -> IdentityLink | None:
    return db.session.scalar(select(IdentityLink).where(
        IdentityLink.realm_id == realm.id, IdentityLink.idp_id == idp.id,
        IdentityLink.subject == subject))


def _provision(realm: Realm, idp: IdentityProvider, identity: Identity,
               anonymous: User | None = None) -> IdentityLink:
    user_id = derive_user_id(idp, identity)
    user = _existing_user_for(realm, idp, identity, user_id)
    now = int(services().clock())
    if user is None and anonymous is not None:
        user = anonymous
        user.user_id, user.verified = user_id, idp.verified
    elif user is None:
        user = User(realm_id=realm.id, uid=new_uid(), user_id=user_id, verified=idp.verified,
                    workspaces=[], state=ACTIVE, created_at=now, last_seen_at=now)
        db.session.add(user)
        db.session.flush()
    link = IdentityLink(realm_id=realm.id, idp_id=idp.id, subject=identity.subject,
                        user_pk=user.id, last_claims=stable_claims(identity.claims), first_login_at=now,
                        last_login_at=now)
    db.session.add(link)
    db.session.flush()
    return link


def _existing_user_for(realm: Realm, idp: IdentityProvider, identity: Identity,
                       user_id: str) -> User | None:
    holder = db.session.scalar(select(User).where(User.realm_id == realm.id, User.user_id == user_id))
    if idp.provisioning == "existing_only":
        if holder is None:
            raise ProvisioningRefused("no existing user matches this subject")
        return holder
    if idp.provisioning == "link_verified_email":
        by_email = _user_with_verified_email(realm, idp, identity)
        if by_email is not None:
            return by_email
    if holder is not None:
        raise ProvisioningRefused("the user_id for this subject belongs to another user")
    return None


def _user_with_verified_email(realm: Realm, idp: IdentityProvider, identity: Identity) -> User | None:
    email = identity.claims.get("email")
    if not (idp.verified and identity.claims.get("email_verified") is True and isinstance(email, str)):
        return None
    return db.session.scalar(select(User).where(
        User.realm_id == realm.id, User.email == email, User.verified.is_(True),
        User.state == ACTIVE))


def derive_user_id(idp: IdentityProvider, identity: Identity) -> str:
    """``user_id`` from the connection's rule: a claim name, or a template like ``{idp}:{sub}``."""
    rule = idp.user_id_claim
    values: dict[str, Any] = {**identity.claims, "sub": identity.subject, "idp": idp.name}
    if "{" not in rule:
        value = values.get(rule)
    else:
        missing = [f for f in TEMPLATE_FIELD.findall(rule) if not _usable(values.get(f))]
        value = None if missing else TEMPLATE_FIELD.sub(lambda m: str(values[m.group(1)]), rule)
    if not _usable(value) or len(str(value)) > 255:
        raise ProvisioningRefused("the subject token lacks the claim that names the user")
    return str(value)


def _usable(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) != ""


def _check_usable(user: User) -> None:
    if user.state == DISABLED:
        raise ProvisioningRefused("the user is disabled")
    if user.state == MERGED:
        raise ProvisioningRefused("the user was merged into another user")


def _refresh(user: User, link: IdentityLink, idp: IdentityProvider, identity: Identity) -> None:
    """Apply what a login tells us; write only when something changed or time passed."""
    now = int(services().clock())
    changed = _apply_profile(user, idp, identity)
    claims = stable_claims(identity.claims)
    if link.last_claims != claims:
        link.last_claims, changed = claims, True
    if now - (link.last_login_at or 0) >= TOUCH_INTERVAL:
        link.last_login_at = user.last_seen_at = now
        changed = True
    if changed:
        db.session.commit()


def stable_claims(claims) -> dict:
    """The claims worth keeping on the link: without the per-token ones (``iat``, ``jti``…),
    so a login that tells us nothing new writes nothing."""
    return {k: v for k, v in claims.items() if k not in VOLATILE_CLAIMS}


def _apply_profile(user: User, idp: IdentityProvider, identity: Identity) -> bool:
    before = user.to_dict()
    profile = _profile(idp, identity)
    if idp.verified:
        for field, value in profile.items():
            setattr(user, field, value)
        user.verified = True
        if identity.custom is not None:
            user.custom = dict(identity.custom)
    elif profile:
        user.unverified = {**(user.unverified or {}), **profile}
    if identity.workspace and identity.workspace not in (user.workspaces or []):
        user.workspaces = [*(user.workspaces or []), identity.workspace]
    return user.to_dict() != before


def _profile(idp: IdentityProvider, identity: Identity) -> dict[str, str]:
    """The profile fields a login tells, through the connection's ``claim_mapping``
    ({field: upstream claim}). A trusted IdP's email counts only when it says the address is
    verified (else it could later link someone else's login by email): otherwise it stays
    non-verified data."""
    claims = {**identity.claims, **{field: identity.claims[claim]
                                    for field, claim in (idp.claim_mapping or {}).items()
                                    if claim in identity.claims}}
    profile = {f: claims[f] for f in PROFILE_FIELDS if isinstance(claims.get(f), str)}
    if idp.verified and "email" in profile and not _vouched_email(idp, claims):
        profile.pop("email")
    return profile


def _vouched_email(idp: IdentityProvider, claims: dict[str, Any]) -> bool:
    """The app's own backend is the authority on its users' emails; an IdP must say so."""
    return idp.type == BACKEND_ASSERTION or claims.get("email_verified") is True
