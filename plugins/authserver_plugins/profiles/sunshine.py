"""Zendesk Sunshine Conversations (formerly Smooch) user JWT, for the Web / mobile SDKs.

HS256 with an app API key; the header names the key: ``{"typ": "JWT", "alg": "HS256",
"kid": <key id>}``. Claims ``{"scope": "user", "external_id": <chat user>, "iat", "exp"}``
(Sunshine Conversations v2 "Authenticating users"), or the older v1 form
``{"scope": "appUser", "userId": <chat user>, …}`` when ``form`` is ``"appUser"``.

Credential: ``key_id``, ``secret`` and optionally ``form`` (``"external_id"`` default, or
``"appUser"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authserver.plugin_api import GrantedToken, ShapedToken

from ._common import (
    Credential,
    VendorProfile,
    hmac_key,
    require_choice,
    require_mapping,
    require_secret,
    require_str,
)

FORMS = ("external_id", "appUser")
#: Sunshine key secrets are 24 characters or longer (the documented example is 24).
SECRET_MIN_LENGTH = 24
KEY_ID_PATTERN = "[A-Za-z0-9_-]{6,64}"
ALLOWED_KEYS = ("key_id", "secret", "form")


class SunshineProfile(VendorProfile):
    """Sunshine Conversations user JWT naming the user by its external id."""

    name = "sunshine"

    def __init__(self, credential: Mapping[str, Any] | None = None):
        super().__init__(credential)
        self._key = hmac_key(self.credential["secret"])

    @classmethod
    def validate_credential(cls, credential: Mapping[str, Any] | None) -> dict[str, Any]:
        credential = require_mapping(credential, ALLOWED_KEYS)
        return Credential(
            key_id=require_str(credential, "key_id", pattern=KEY_ID_PATTERN,
                               hint="an app API key id such as 'app_5deaa3531c7f940010cc4ba4'"),
            secret=require_secret(credential, "secret", min_length=SECRET_MIN_LENGTH),
            form=require_choice(credential, "form", FORMS, default="external_id"),
        )

    def public_info(self) -> dict[str, Any]:
        return {"key_id": self.credential["key_id"], "form": self.credential["form"]}

    def shape(self, token: GrantedToken) -> ShapedToken:
        header = {"typ": "JWT", "alg": "HS256", "kid": self.credential["key_id"]}
        if self.credential["form"] == "appUser":
            user = {"scope": "appUser", "userId": token.subject}
        else:
            user = {"scope": "user", "external_id": token.subject}
        claims = user | {"iat": token.issued_at, "exp": self.expiry(token)}
        return ShapedToken(header=header, claims=claims, key=self._key, algorithm="HS256")
