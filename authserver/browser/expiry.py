"""Expired browser-login and console state is deleted, so these tables hold only what can
still be used: pushed and in-flight authorization requests past their expiry; authorization
codes an hour after theirs (a replay within that hour still revokes what the code issued,
RFC 6749 §4.1.2); browser sessions, refresh-token families, console links and console sessions
a day after they expired or ended. The webhook worker runs it with its other pruning.
"""

from __future__ import annotations

from sqlalchemy import delete, or_

from authserver.extensions import db
from authserver.models import (
    AuthorizationCode,
    AuthorizationRequest,
    BrowserSession,
    ConsoleLink,
    ConsoleSession,
    RefreshToken,
)

CODE_REPLAY_WINDOW = 3600
ENDED_KEPT = 86400


def purge_expired(now: int) -> dict[str, int]:
    """Delete what expired; how many rows each table lost. One transaction."""
    late = now - ENDED_KEPT
    statements = {
        "authorization_requests": delete(AuthorizationRequest).where(AuthorizationRequest.expires_at < now),
        "authorization_codes": delete(AuthorizationCode).where(
            AuthorizationCode.expires_at < now - CODE_REPLAY_WINDOW),
        "browser_sessions": delete(BrowserSession).where(
            or_(BrowserSession.expires_at < late, BrowserSession.ended_at < late)),
        "refresh_tokens": delete(RefreshToken).where(RefreshToken.family_expires_at < late),
        "console_links": delete(ConsoleLink).where(ConsoleLink.expires_at < late),
        "console_sessions": delete(ConsoleSession).where(
            or_(ConsoleSession.expires_at < late, ConsoleSession.ended_at < late)),
    }
    removed = {table: db.session.execute(statement.execution_options(synchronize_session=False)).rowcount
               for table, statement in statements.items()}
    db.session.commit()
    return removed
