"""Chat users, as an admin sees them: find, list, disable and enable.

``_id`` (``uid``) is server-assigned and immutable; ``user_id`` is unique in the realm, set
once and never given to another person. Which user a login is belongs to
:mod:`authserver.identity.decision`.
"""

from __future__ import annotations

from sqlalchemy import select

from authserver.errors import InvalidInput, NotFound
from authserver.events import payloads
from authserver.events.outbox import publish
from authserver.extensions import db
from authserver.models import Realm, User
from authserver.models.user import ACTIVE, DISABLED, MERGED
from authserver.registry import audit


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
    if before["state"] != user.state:
        publish(realm, "user.disabled" if disabled else "user.enabled", payloads.user(user), actor)
    db.session.commit()
    return user
