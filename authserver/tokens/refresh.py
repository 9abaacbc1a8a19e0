"""Refresh tokens (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2).

Each token is 256 random bits, stored only as a keyed hash, and belongs to a *family* (one
login of one client). Every use spends it and issues the next of its family; presenting a
spent token again revokes the whole family, in its own transaction, so the revocation holds
even though the request that detected it is refused. A family never outlives its absolute
lifetime, however often it rotates; both lifetimes are per client, capped by configuration.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select, update

from authserver.crypto import new_secret
from authserver.extensions import db
from authserver.models import Client, RefreshToken
from authserver.state import RealmContext

DEFAULT_TTL = 14 * 24 * 3600
DEFAULT_ABSOLUTE_TTL = 30 * 24 * 3600
#: The absolute maximum of any family, whatever a client is configured with.
MAX_LIFETIME = 90 * 24 * 3600


def lifetimes(ctx: RealmContext, client: Client) -> tuple[int, int]:
    absolute = min(client.refresh_token_absolute_ttl or DEFAULT_ABSOLUTE_TTL, MAX_LIFETIME)
    return min(client.refresh_token_ttl or DEFAULT_TTL, absolute), absolute


def issue_refresh_token(ctx: RealmContext, client: Client, *, user_pk: int, scopes: list[str], audience: str,
                        auth_time: int, browser_sid: str | None, idp_name: str | None,
                        previous: RefreshToken | None = None) -> tuple[str, RefreshToken]:
    """A new token of ``previous``'s family (or of a new one), in the request's transaction."""
    token, now = new_secret(32), ctx.now()
    ttl, absolute = lifetimes(ctx, client)
    family = previous.family if previous is not None else secrets.token_hex(16)
    family_expires_at = previous.family_expires_at if previous is not None else now + absolute
    row = RefreshToken(realm_id=ctx.realm.id, token_hash=ctx.state.hasher.hash(token), family=family,
                       client_id=client.client_id, user_pk=user_pk, browser_sid=browser_sid, idp_name=idp_name,
                       scopes=list(scopes), audience=audience, auth_time=auth_time, created_at=now,
                       expires_at=min(now + ttl, family_expires_at), family_expires_at=family_expires_at)
    db.session.add(row)
    return token, row


def find_refresh_token(ctx: RealmContext, token: str) -> RefreshToken | None:
    if not token or len(token) > 256:
        return None
    return db.session.scalars(select(RefreshToken).where(
        RefreshToken.realm_id == ctx.realm.id, RefreshToken.token_hash == ctx.state.hasher.hash(token))).first()


def spend(ctx: RealmContext, row: RefreshToken) -> bool:
    """Mark ``row`` used, once: False when another request spent it first."""
    result = db.session.execute(update(RefreshToken).where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None))
                                .values(used_at=ctx.now()).execution_options(synchronize_session=False))
    return result.rowcount == 1


def revoke_family(ctx: RealmContext, family: str) -> None:
    """Every token of the family stops working, committed at once (not with the request)."""
    with db.engine.begin() as connection:
        connection.execute(update(RefreshToken).where(
            RefreshToken.realm_id == ctx.realm.id, RefreshToken.family == family,
            RefreshToken.revoked_at.is_(None)).values(revoked_at=ctx.now()))


def revoke_user_families(ctx: RealmContext, user_pk: int) -> None:
    db.session.execute(update(RefreshToken).where(
        RefreshToken.realm_id == ctx.realm.id, RefreshToken.user_pk == user_pk,
        RefreshToken.revoked_at.is_(None)).values(revoked_at=ctx.now()))
