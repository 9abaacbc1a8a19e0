"""RFC 6750 §2.1 bearer tokens in the ``Authorization`` request header."""

from __future__ import annotations

from flask import request


def bearer_token() -> str | None:
    """The token of ``Authorization: Bearer <token>``, or ``None`` when there is none."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token

