"""The ``data`` of user and session events, built in one place so every caller (the admin
services here, the identity decision and the device sessions) sends the same shapes.

A user is shown as the admin API shows it (``User.to_dict()``: ``_id``, ``user_id``,
``identified``, ``verified``, names, email, picture, ``custom``, ``unverified``, state…).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from authserver.models import DeviceSession, User


def user(row: User) -> dict[str, Any]:
    """``user.created``, ``user.disabled``, ``user.enabled``: the user."""
    return row.to_dict()


def user_identified(row: User) -> dict[str, Any]:
    """``user.identified``: the user, and what it was before the login named it."""
    return {**row.to_dict(), "previous": {"identified": False}}


def user_updated(row: User, changed: Iterable[str]) -> dict[str, Any]:
    """``user.updated``: the user and the names of the fields that changed."""
    return {**row.to_dict(), "changed": sorted(set(changed))}


def user_deleted(row: User) -> dict[str, Any]:
    """``user.deleted``: only the identifiers (the rest is gone)."""
    return {"_id": row.uid, "user_id": row.user_id}


def user_merged(surviving: User, discarded: User, reason: str,
                ended_sessions: Iterable[DeviceSession] = ()) -> dict[str, Any]:
    """``user.merged``: move ``discarded``'s conversations to ``surviving``."""
    return {"surviving": surviving.to_dict(), "discarded": discarded.to_dict(), "reason": reason,
            "ended_sessions": [s.sid for s in ended_sessions]}


def tokens_revoked(row: User, not_before: int, ended_sessions: Iterable[DeviceSession] = ()) -> dict[str, Any]:
    """``user.tokens_revoked``: drop this user's connections; tokens issued until
    ``not_before`` (Unix seconds) are void."""
    return {"_id": row.uid, "user_id": row.user_id, "not_before": not_before,
            "ended_sessions": [s.sid for s in ended_sessions]}


def session(row: DeviceSession, owner: User, reason: str) -> dict[str, Any]:
    """``session.created`` (reason ``anonymous``…) and ``session.ended`` (``upgraded``,
    ``merged``, ``tokens_revoked``…)."""
    return {"sid": row.sid, "_id": owner.uid, "client_id": row.client_id, "reason": reason}
