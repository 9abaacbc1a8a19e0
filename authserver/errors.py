"""Domain errors shared by the CLI, the admin API and the OAuth endpoints.

OAuth endpoints raise Authlib's RFC-named errors (``InvalidRequestError`` …); the service
layer raises these, and each front end turns them into its own shape: one line and exit
status 2 for the CLI, JSON with the right status for HTTP.
"""

from __future__ import annotations


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
