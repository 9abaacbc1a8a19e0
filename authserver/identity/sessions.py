"""Anonymous users and their device sessions.

A public client allowed to creates an anonymous user (only ``_id``) bound to an opaque
session token: 256 bits, shown once, stored as a keyed hash. The optional profile the
device sends (name, email, custom data, workspace) is stored as non-verified data. A session
grants access only while its user is anonymous: logging in ends it.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from authserver.crypto import new_secret
from authserver.errors import InvalidInput, ServiceError
from authserver.events import payloads
from authserver.events.outbox import publish
from authserver.extensions import db
from authserver.identity.decision import new_uid
from authserver.models import Client, DeviceSession, User
from authserver.models.user import ACTIVE
from authserver.registry import validation
from authserver.state import RealmContext

PROFILE_FIELDS = {"name", "email", "custom", "workspace"}
MAX_CUSTOM_BYTES = 4096


class TooManySessions(ServiceError):
    status_code = 429
    error = "too_many_requests"


@dataclass(frozen=True)
class NewSession:
    session_token: str
    session: DeviceSession
    user: User


def create_anonymous_session(ctx: RealmContext, client: Client, source_address: str,
                             profile: dict[str, Any]) -> NewSession:
    """An anonymous user and its session, added to the current transaction (the caller commits)."""
    if not client.allow_anonymous:
        raise InvalidInput("this client may not create anonymous users")
    unverified = unverified_profile(profile)
    _check_rate(ctx, client, source_address)
    now = ctx.now()
    user = User(realm_id=ctx.realm.id, uid=new_uid(), user_id=None, verified=False, workspaces=[],
                unverified=unverified or None, state=ACTIVE, created_at=now, last_seen_at=now)
    db.session.add(user)
    db.session.flush()
    token = new_secret(32)
    session = DeviceSession(realm_id=ctx.realm.id, sid=secrets.token_hex(8),
                            token_hash=ctx.state.hasher.hash(token), user_pk=user.id,
                            client_id=client.client_id, source_address=source_address[:64],
                            created_at=now)
    db.session.add(session)
    db.session.flush()
    actor = f"client:{client.client_id}"
    publish(ctx.realm, "user.created", payloads.user(user), actor)
    publish(ctx.realm, "session.created", payloads.session(session, user, "anonymous"), actor)
    return NewSession(token, session, user)


def find_active_session(ctx: RealmContext, client: Client, token: str) -> DeviceSession | None:
    """The session behind ``token`` if it is live, belongs to ``client`` and its user is
    still anonymous and active."""
    session = db.session.scalar(select(DeviceSession).where(
        DeviceSession.token_hash == ctx.state.hasher.hash(token),
        DeviceSession.realm_id == ctx.realm.id))
    if session is None or session.ended_at is not None or session.client_id != client.client_id:
        return None
    user = db.session.get(User, session.user_pk)
    if user is None or user.identified or user.state != ACTIVE:
        return None
    return session


def unverified_profile(profile: dict[str, Any]) -> dict[str, Any]:
    """What a device says about its user, checked: kept apart as non-verified data."""
    validation.only_fields(profile, PROFILE_FIELDS, "profile")
    result: dict[str, Any] = {}
    for name in ("name", "email", "workspace"):
        if profile.get(name) is not None:
            result[name] = validation.text(profile[name], name, 255)
    custom = profile.get("custom")
    if custom is not None:
        if not isinstance(custom, dict) or len(json.dumps(custom)) > MAX_CUSTOM_BYTES:
            raise InvalidInput(f"custom: must be a JSON object of at most {MAX_CUSTOM_BYTES} bytes")
        result["custom"] = custom
    return result


def _check_rate(ctx: RealmContext, client: Client, source_address: str) -> None:
    window = current_app.config["ANONYMOUS_SESSION_WINDOW"]
    since = ctx.now() - window
    count = db.session.scalar(select(func.count()).select_from(DeviceSession).where(
        DeviceSession.realm_id == ctx.realm.id, DeviceSession.client_id == client.client_id,
        DeviceSession.source_address == source_address[:64], DeviceSession.created_at > since))
    if count >= current_app.config["ANONYMOUS_SESSION_LIMIT"]:
        raise TooManySessions(f"too many anonymous sessions from this address; retry in up to {window} s")
