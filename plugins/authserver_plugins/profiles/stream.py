"""Stream Chat user token, as ``stream_chat.StreamChat.create_token`` builds it.

HS256 with the app's API secret; header ``{"typ": "JWT", "alg": "HS256"}``; claims
``user_id`` (the chat user), ``iat`` and ``exp``. Stream sets no lifetime limit of its own.

Credential: ``api_secret`` and optionally ``api_key`` (public, shown in :meth:`public_info`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authserver.plugin_api import GrantedToken, ShapedToken

from ._common import (
    Credential,
    VendorProfile,
    drop_none,
    hmac_key,
    optional_str,
    require_mapping,
    require_secret,
)

HEADER = {"typ": "JWT", "alg": "HS256"}
SECRET_MIN_LENGTH = 32
ALLOWED_KEYS = ("api_key", "api_secret")


class StreamProfile(VendorProfile):
    """Stream Chat user token."""

    name = "stream"

    def __init__(self, credential: Mapping[str, Any] | None = None):
        super().__init__(credential)
        self._key = hmac_key(self.credential["api_secret"])

    @classmethod
    def validate_credential(cls, credential: Mapping[str, Any] | None) -> dict[str, Any]:
        credential = require_mapping(credential, ALLOWED_KEYS)
        return Credential(drop_none({
            "api_key": optional_str(credential, "api_key", pattern="[A-Za-z0-9]{4,64}",
                                    hint="letters and digits"),
            "api_secret": require_secret(credential, "api_secret", min_length=SECRET_MIN_LENGTH),
        }))

    def public_info(self) -> dict[str, Any]:
        return drop_none({"api_key": self.credential.get("api_key")})

    def shape(self, token: GrantedToken) -> ShapedToken:
        claims = {"user_id": token.subject, "iat": token.issued_at, "exp": self.expiry(token)}
        return ShapedToken(header=dict(HEADER), claims=claims, key=self._key, algorithm="HS256")
