"""Errors: domain errors shared by the CLI, the admin API and the OAuth endpoints, and the
RFC-named OAuth errors Authlib does not ship (RFC 8693 / RFC 8707 ``invalid_target`` …).

OAuth endpoints raise Authlib's RFC-named errors (``InvalidRequestError`` …); the service
layer raises these, and each front end turns them into its own shape: one line and exit
status 2 for the CLI, JSON with the right status for HTTP.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import OAuth2Error


class ServiceError(Exception):
    status_code = 400
    error = "invalid_request"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict:
        return {"error": self.error, "error_description": self.message}


class InvalidInput(ServiceError):
    pass


class NotFound(ServiceError):
    status_code = 404
    error = "not_found"


class Conflict(ServiceError):
    status_code = 409
    error = "conflict"


class Unavailable(ServiceError):
    status_code = 503
    error = "temporarily_unavailable"


# --- OAuth error classes named after their RFC error codes, beyond those Authlib ships ---


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
