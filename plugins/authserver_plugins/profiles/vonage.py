"""Vonage Client SDK JWT (Conversation API / Client SDK), as ``vonage-jwt`` builds it.

RS256 with the Vonage application's private key; header ``{"typ": "JWT", "alg": "RS256"}``.
Claims: ``application_id``, ``sub`` = the chat user (the Vonage user *name*), ``jti``,
``iat``, ``exp`` and ``acl`` = ``{"paths": {path: {"methods"?, "filters"?}}}``. The ACL comes
from the chat backend's ACL template as the core filled it for this user (a list of
``{path, methods?, filters?}``); without one, the Client SDK's usual paths are granted.
Vonage refuses JWTs valid for more than 24 hours.

Credential: ``application_id`` (a UUID) and ``private_key`` (PEM, RSA ≥ 2048 bits).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from authserver.plugin_api import GrantedToken, PluginConfigError, ShapedToken

from ._common import (
    Credential,
    VendorProfile,
    drop_none,
    load_private_pem,
    plain,
    private_pem,
    public_pem,
    require_mapping,
    require_str,
    signing_key,
)

HEADER = {"typ": "JWT", "alg": "RS256"}
UUID_PATTERN = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
#: What Vonage's Client SDK guides grant a logged-in user.
DEFAULT_ACL_PATHS = (
    "/*/rtc/**", "/*/users/**", "/*/conversations/**", "/*/sessions/**", "/*/devices/**",
    "/*/image/**", "/*/media/**", "/*/applications/**", "/*/push/**", "/*/knocking/**",
    "/*/legs/**",
)
ALLOWED_KEYS = ("application_id", "private_key")


class VonageProfile(VendorProfile):
    """Vonage Client SDK login JWT with an ACL."""

    name = "vonage"
    max_lifetime = 24 * 3600

    def __init__(self, credential: Mapping[str, Any] | None = None):
        super().__init__(credential)
        self._key = signing_key(self.credential["private_key"])

    @classmethod
    def validate_credential(cls, credential: Mapping[str, Any] | None) -> dict[str, Any]:
        credential = require_mapping(credential, ALLOWED_KEYS)
        application_id = require_str(credential, "application_id", pattern=UUID_PATTERN,
                                     hint="a Vonage application id is a UUID")
        private = load_private_pem(credential, "private_key", kinds=("RSA",))
        return Credential(application_id=application_id, private_key=private_pem(private))

    def public_info(self) -> dict[str, Any]:
        private = load_private_pem(self.credential, "private_key", kinds=("RSA",))
        return {"application_id": self.credential["application_id"],
                "public_key": public_pem(private)}

    def shape(self, token: GrantedToken) -> ShapedToken:
        claims = {
            "application_id": self.credential["application_id"],
            "sub": token.subject,
            "jti": token.jti,
            "iat": token.issued_at,
            "exp": self.expiry(token),
            "acl": {"paths": acl_paths(token.acl)},
        }
        return ShapedToken(header=dict(HEADER), claims=claims, key=self._key, algorithm="RS256")


def acl_paths(acl: Iterable[Mapping[str, Any]] | None) -> dict[str, dict[str, Any]]:
    """Vonage ``acl.paths`` from a filled ACL template (or the default Client SDK paths)."""
    if acl is None:
        return {path: {} for path in DEFAULT_ACL_PATHS}
    return dict(_acl_entry(entry) for entry in acl)


def _acl_entry(entry: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    path = entry.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise PluginConfigError("acl_template", "every ACL entry needs a 'path' starting with /")
    rules = {"methods": plain(entry.get("methods")), "filters": plain(entry.get("filters"))}
    return path, drop_none(rules)
