"""OAuth error classes named after their RFC error codes, beyond those Authlib ships."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import OAuth2Error


class InvalidTargetError(OAuth2Error):
    """RFC 8693 §2.2.2 / RFC 8707 §2: the audience or resource is not acceptable."""

    error = "invalid_target"


class UnsupportedTokenTypeError(OAuth2Error):
    """RFC 7009 §2.2.1 / RFC 8693: the token type is not supported."""

    error = "unsupported_token_type"


class TemporarilyUnavailableError(OAuth2Error):
    """The upstream IdP or the database cannot serve now; retry later (HTTP 503)."""

    error = "temporarily_unavailable"
    status_code = 503

    def get_headers(self):
        return [*super().get_headers(), ("Retry-After", "5")]
