"""Errors raised by the verifier (RFC 6750 section 3.1 decides how a backend answers them).

* :class:`TokenError` -- the token is not acceptable. Answer ``401`` with
  ``WWW-Authenticate: Bearer error="invalid_token"``. ``.reason`` is a short stable code
  (see :data:`REASONS`) for logs and metrics; it never contains the token.
* :class:`UpstreamError` -- a :class:`TokenError` raised because the issuer could not be
  trusted or reached (discovery, JWKS, introspection). Catching ``TokenError`` alone fails
  closed; catch ``UpstreamError`` first to answer ``503`` instead.
* :class:`InsufficientScope` -- a :class:`TokenError` raised by ``require_scope`` when a
  valid token lacks a scope. Answer ``403`` with ``error="insufficient_scope"`` and
  ``scope="..."`` (``.scope``); catch it before ``TokenError``.

So ``except TokenError`` catches every refusal, failing closed; ``.error`` is the RFC 6750
section 3.1 error code to put in ``WWW-Authenticate`` (``invalid_token`` or
``insufficient_scope``).
"""

from __future__ import annotations

__all__ = ["REASONS", "InsufficientScope", "TokenError", "UpstreamError", "VerifierError"]

#: reason code -> human description; the description is what ``str(error)`` shows.
REASONS: dict[str, str] = {
    "malformed": "the token is not a well-formed compact JWS with JSON header and claims",
    "too_large": "the token exceeds the size limit",
    "bad_typ": "the header typ is not at+jwt (RFC 9068)",
    "bad_alg": "the signing algorithm is not allowed or does not fit the key",
    "missing_kid": "the header has no kid",
    "unknown_kid": "no published key has this kid",
    "bad_signature": "the signature does not verify",
    "bad_issuer": "iss is not the configured issuer",
    "bad_audience": "aud does not contain the configured audience",
    "missing_claim": "a required claim is missing",
    "invalid_claim": "a claim has the wrong type",
    "expired": "exp is in the past",
    "not_yet_valid": "nbf is in the future",
    "issued_in_future": "iat is in the future",
    "too_old": "iat is older than max_token_age",
    "discovery_failed": "the issuer's discovery document could not be fetched",
    "issuer_mismatch": "the discovery document names another issuer",
    "jwks_unavailable": "the issuer's JWKS could not be fetched",
    "introspection_failed": "the introspection endpoint did not answer 200 with a JSON object",
    "no_introspection_endpoint": "discovery names no introspection_endpoint",
    "insufficient_scope": "the token lacks a required scope",
}


class VerifierError(Exception):
    """Base class of every error this package raises."""


class TokenError(VerifierError):
    """The token is refused; ``reason`` is one of :data:`REASONS`."""

    #: the RFC 6750 section 3.1 error code of this refusal
    error = "invalid_token"

    def __init__(self, reason: str, detail: str | None = None) -> None:
        self.reason = reason
        self.detail = detail
        text = REASONS.get(reason, reason)
        super().__init__(f"{reason}: {text}" + (f" ({detail})" if detail else ""))


class UpstreamError(TokenError):
    """The issuer could not be reached or trusted, so no token can be accepted right now."""


class InsufficientScope(TokenError):  # noqa: N818 - the RFC 6750 error name
    """A valid token lacks ``missing`` scopes (RFC 6750 section 3.1 ``insufficient_scope``)."""

    error = "insufficient_scope"

    def __init__(self, missing: frozenset[str]) -> None:
        self.missing = frozenset(missing)
        self.scope = " ".join(sorted(self.missing))
        super().__init__("insufficient_scope", f"missing {self.scope}")
