"""Chat users, as an admin sees them: find, list, disable, enable and delete (erase).

``_id`` (``uid``) is server-assigned and immutable; ``user_id`` is unique in the realm, set
once and never given to another person. Which user a login is belongs to
:mod:`authserver.identity.decision`.

Deleting a user erases it: the row, its identity links and device sessions go (so the same
upstream subject logging in again becomes a new user, with a new ``_id``), with the anonymous
users merged into it (the same person); its monthly usage keeps only counts; the audit log
and the stored events keep its identifiers and state changes, not its profile.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select

from authserver.errors import InvalidInput, NotFound
from authserver.events import payloads
from authserver.events.outbox import publish
from authserver.extensions import db
from authserver.models import (
    AuditEvent,
    AuthorizationCode,
    BrowserSession,
    DeviceSession,
    Event,
    IdentityLink,
    Realm,
    RefreshToken,
    User,
)
from authserver.models.user import ACTIVE, DISABLED, MERGED
from authserver.registry import audit, paging
from authserver.registry.paging import Order, Page
from authserver.tokens import usage

#: What erasure removes from the audit log and stored events that name the user.
STATES = (ACTIVE, DISABLED, MERGED)
ORDER = Order("users", (User.id,))
DEFAULT_LIMIT, MAX_LIMIT = 1000, 100_000
PROFILE_FIELDS = frozenset({"given_name", "family_name", "name", "email", "picture", "custom", "unverified"})


def get_user(realm: Realm, key: str) -> User:
    """By ``_id`` or by ``user_id``."""
    user = db.session.scalar(select(User).where(User.realm_id == realm.id, User.uid == key)) \
        or db.session.scalar(select(User).where(User.realm_id == realm.id, User.user_id == key))
    if user is None:
        raise NotFound(f"no user {key!r} in realm {realm.name!r}")
    return user


def list_users(realm: Realm, limit: int = DEFAULT_LIMIT, cursor: str | None = None, *, user_id: str | None = None,
               email: str | None = None, uid: str | None = None, state: str | None = None) -> Page:
    """A page of the realm's users, oldest first; filters match exactly (``email``: in any case)."""
    query = select(User).where(User.realm_id == realm.id)
    if paging.text_filter(user_id, "user_id", 255) is not None:
        query = query.where(User.user_id == user_id)
    if paging.text_filter(email, "email", 320) is not None:
        query = query.where(func.lower(User.email) == email.lower())
    if paging.text_filter(uid, "_id", 32) is not None:
        query = query.where(User.uid == uid)
    if paging.choice_filter(state, "state", STATES) is not None:
        query = query.where(User.state == state)
    return paging.page(query, ORDER, limit, cursor, maximum=MAX_LIMIT)


def set_user_disabled(realm: Realm, key: str, disabled: bool, actor: str) -> User:
    user = get_user(realm, key)
    if user.state == MERGED:
        raise InvalidInput(f"user {key!r} was merged into {user.merged_into}")
    before = user.to_dict()
    user.state = DISABLED if disabled else ACTIVE
    audit.record(realm, actor, "user.disable" if disabled else "user.enable", "user", user.uid,
                 before=before, after=user.to_dict())
    if before["state"] != user.state:
        publish(realm, "user.disabled" if disabled else "user.enabled", payloads.user(user), actor)
    db.session.commit()
    return user


def delete_user(realm: Realm, key: str, actor: str) -> dict[str, Any]:
    """Erase the user (by ``_id`` or ``user_id``) and the anonymous users merged into it,
    publishing ``user.deleted`` for each, in one transaction; returns the event's data."""
    user = get_user(realm, key)
    merged = list(db.session.scalars(select(User).where(User.realm_id == realm.id,
                                                        User.merged_into == user.uid)))
    erased = [user, *merged]
    pks, deleted = [u.id for u in erased], [payloads.user_deleted(u) for u in erased]
    usage.erase(pks)
    db.session.execute(delete(IdentityLink).where(IdentityLink.user_pk.in_(pks)))
    for model in (DeviceSession, BrowserSession, AuthorizationCode, RefreshToken):
        db.session.execute(delete(model).where(model.user_pk.in_(pks)))
    _forget_profiles(realm, [u.uid for u in erased])
    db.session.execute(delete(User).where(User.id.in_(pks)))
    for data in deleted:
        publish(realm, "user.deleted", data, actor)
    audit.record(realm, actor, "user.delete", "user", user.uid, before=deleted[0],
                 after={"merged_users_deleted": [d["_id"] for d in deleted[1:]]} if merged else None)
    db.session.commit()
    return deleted[0]


def _forget_profiles(realm: Realm, uids: list[str]) -> None:
    """The audit rows and stored events naming these users keep no profile data."""
    for row in db.session.scalars(select(AuditEvent).where(
            AuditEvent.realm_id == realm.id, AuditEvent.target_type == "user", AuditEvent.target_id.in_(uids))):
        row.before, row.after = _without_profile(row.before), _without_profile(row.after)
    keys = [f"user:{uid}" for uid in uids]
    for event in db.session.scalars(select(Event).where(
            Event.realm_id == realm.id, or_(Event.order_key.in_(keys), Event.order_key_2.in_(keys)))):
        event.data = _without_profile(event.data)


def _without_profile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_profile(v) for k, v in value.items() if k not in PROFILE_FIELDS}
    if isinstance(value, list):
        return [_without_profile(v) for v in value]
    return value
