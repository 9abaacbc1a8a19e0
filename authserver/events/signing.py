"""Standard Webhooks 1.0 signatures: ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature`` = ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``.

A secret is ``whsec_`` + base64 of 32 random bytes; the HMAC key is the decoded bytes.
During a rotation the message carries one signature per secret, space-separated, so a
receiver holding either secret verifies it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterable

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(secrets: Iterable[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret given (newest first)."""
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(timestamp)),
            "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in secrets)}
