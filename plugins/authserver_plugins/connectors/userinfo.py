"""OAuth 2.0 access tokens (RFC 6749) checked at a profile endpoint: OpenID Connect Core 1.0
§5.3 UserInfo, or a plain OAuth 2.0 API such as GitHub's ``/user``.

The endpoint is asked, with the token as an RFC 6750 §2.1 Bearer credential, whose token it
is; the answer's ``subject_claim`` (numbers are stringified) becomes the subject and the
rest, renamed through ``claim_mapping``, the profile.

Config::

    userinfo_url   the endpoint (https, or http on loopback)
    subject_claim  the claim naming the user (default "sub"; "id" for GitHub)
    claim_mapping  {OIDC claim name: upstream claim name}, e.g. {"picture": "avatar_url"}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from authserver.plugin_api import (
    TOKEN_TYPE_ACCESS_TOKEN,
    Connector,
    Identity,
    UpstreamUnavailable,
    VerificationRequest,
)

from . import _config, _jwt
from ._claims import normalize_profile, stringify_subject
from ._userinfo import fetch_userinfo

_KEYS = ("userinfo_url", "subject_claim", "claim_mapping")


class UserinfoConnector(Connector):
    """Verifies opaque access tokens at one profile endpoint. Stateless, so thread-safe."""

    type_name = "oauth2_userinfo"
    subject_token_types = frozenset({TOKEN_TYPE_ACCESS_TOKEN})

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        _config.refuse_unknown_keys(config, _KEYS)
        return {
            "userinfo_url": _config.https_url(config.get("userinfo_url"), "userinfo_url"),
            "subject_claim": _config.string(config.get("subject_claim", "sub"), "subject_claim"),
            "claim_mapping": _config.claim_mapping(config.get("claim_mapping")),
        }

    def verify(self, token: str, token_type: str, request: VerificationRequest) -> Identity:
        _jwt.check_token_type(token_type, self.subject_token_types)
        _jwt.check_size(token, self.context.max_token_bytes)
        body = fetch_userinfo(self.context.http, self.config["userinfo_url"], token)
        claim = self.config["subject_claim"]
        subject = stringify_subject(body.get(claim))
        if subject is None:
            raise UpstreamUnavailable(f"profile response has no usable {claim!r}")
        return Identity(subject=subject,
                        claims=normalize_profile(body, self.config["claim_mapping"]))
