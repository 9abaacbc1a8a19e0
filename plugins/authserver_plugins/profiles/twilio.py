"""Twilio Access Token (Conversations / Programmable Chat), as the ``twilio`` SDK builds it.

Header ``{"typ": "JWT", "alg": "HS256", "cty": "twilio-fpa;v=1"}``, signed with an API key
secret. Claims, as ``twilio.jwt.access_token.AccessToken``: ``iss`` = API key SID (``SK…``),
``sub`` = account SID (``AC…``), ``jti`` = ``"{api_key_sid}-{iat}"``, ``nbf``, ``exp`` and
``grants`` = ``{"identity": <chat user>, "chat": {"service_sid": "IS…", …}}``. We also set
``iat`` (the Node SDK does, through ``jsonwebtoken``). Twilio refuses tokens valid for more
than 24 hours.

Credential: ``account_sid``, ``api_key_sid``, ``api_key_secret``, ``chat_service_sid`` and
optionally ``push_credential_sid`` (``CR…``).
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
    require_str,
)

HEADER = {"typ": "JWT", "alg": "HS256", "cty": "twilio-fpa;v=1"}
#: Twilio SIDs: a two-letter type prefix and 32 hex digits (34 characters).
SID_PATTERNS = {
    "account_sid": "AC",
    "api_key_sid": "SK",
    "chat_service_sid": "IS",
    "push_credential_sid": "CR",
}
API_KEY_SECRET_LENGTH = 32
ALLOWED_KEYS = (*SID_PATTERNS, "api_key_secret")


def _sid(credential: Mapping[str, Any], key: str, *, required: bool = True) -> str | None:
    prefix = SID_PATTERNS[key]
    check = require_str if required else optional_str
    return check(credential, key, pattern=f"{prefix}[0-9a-fA-F]{{32}}",
                 hint=f"a Twilio SID is '{prefix}' followed by 32 hex digits")


class TwilioProfile(VendorProfile):
    """Twilio Access Token with a Chat grant, for the Conversations / Chat SDKs."""

    name = "twilio"
    max_lifetime = 24 * 3600

    def __init__(self, credential: Mapping[str, Any] | None = None):
        super().__init__(credential)
        self._key = hmac_key(self.credential["api_key_secret"])

    @classmethod
    def validate_credential(cls, credential: Mapping[str, Any] | None) -> dict[str, Any]:
        credential = require_mapping(credential, ALLOWED_KEYS)
        normalized = {key: _sid(credential, key, required=key != "push_credential_sid")
                      for key in SID_PATTERNS}
        normalized["api_key_secret"] = require_secret(
            credential, "api_key_secret", min_length=API_KEY_SECRET_LENGTH)
        return Credential(drop_none(normalized))

    def public_info(self) -> dict[str, Any]:
        return {key: self.credential[key] for key in SID_PATTERNS if key in self.credential}

    def shape(self, token: GrantedToken) -> ShapedToken:
        key_sid, iat = self.credential["api_key_sid"], token.issued_at
        claims = {
            "jti": f"{key_sid}-{iat}",
            "grants": {"identity": token.subject, "chat": self._chat_grant(token)},
            "iss": key_sid,
            "sub": self.credential["account_sid"],
            "iat": iat,
            "nbf": iat,
            "exp": self.expiry(token),
        }
        return ShapedToken(header=dict(HEADER), claims=claims, key=self._key, algorithm="HS256")

    def _chat_grant(self, token: GrantedToken) -> dict[str, str]:
        endpoint = f"{token.subject}:{token.sid}" if token.sid else None
        return drop_none({
            "service_sid": self.credential["chat_service_sid"],
            "endpoint_id": endpoint,
            "push_credential_sid": self.credential.get("push_credential_sid"),
        })
