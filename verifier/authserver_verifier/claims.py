"""Claims of an RFC 9068 JWT access token (the authserver chat JWT), and their checks.

:func:`check_claims` applies RFC 9068 section 4 / RFC 7519 section 4.1 to a payload whose
signature already verified: ``iss`` exactly equal, ``aud`` containing the audience, ``exp``
required, ``nbf`` / ``iat`` not in the future, optional ``max_token_age``; every time
comparison allows ``leeway`` seconds of clock skew.

:class:`AccessTokenClaims` is the dict a backend gets back, with helpers for ``scope``
(RFC 8693 / RFC 9068 space-separated string) and the ``acl`` claim (see
:mod:`authserver_verifier.acl`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .acl import NO_ACL, acl_allows
from .errors import InsufficientScope, TokenError

__all__ = ["AccessTokenClaims", "ClaimsPolicy", "check_claims"]


class AccessTokenClaims(dict[str, Any]):
    """The verified claims; a plain ``dict`` plus helpers."""

    @property
    def subject(self) -> str | None:
        return self.get("sub")

    @property
    def scopes(self) -> frozenset[str]:
        """Granted scopes from the space-separated ``scope`` claim."""
        scope = self.get("scope")
        return frozenset(scope.split()) if isinstance(scope, str) else frozenset()

    def has_scope(self, *scopes: str) -> bool:
        return set(scopes) <= self.scopes

    def require_scope(self, *scopes: str) -> None:
        """Raise :class:`InsufficientScope` (a ``TokenError``) unless every one of ``scopes`` was granted."""
        missing = frozenset(scopes) - self.scopes
        if missing:
            raise InsufficientScope(missing)

    def acl_allows(self, method: str, path: str) -> bool:
        """True when the ``acl`` claim grants ``method`` on the decoded ``path``.

        No ``acl`` claim: no path restrictions (authserver omits it only for chat backends
        without an ACL template), so True. An ``acl`` list allows only what its entries
        grant, an empty list nothing; an ``acl`` that is not a list allows nothing.
        """
        return acl_allows(self.get("acl", NO_ACL), method, path)


@dataclass(frozen=True)
class ClaimsPolicy:
    """What :func:`check_claims` demands; built once by the ``Verifier``."""

    issuer: str
    audience: str
    leeway: int = 60
    max_token_age: int | None = None
    required: tuple[str, ...] = ("sub",)


def check_claims(payload: dict[str, Any], policy: ClaimsPolicy, now: float) -> AccessTokenClaims:
    """Return the claims if ``payload`` passes ``policy`` at time ``now``, else raise TokenError."""
    _check_required(payload, policy.required)
    if payload.get("iss") != policy.issuer:
        raise TokenError("bad_issuer")
    if policy.audience not in _audiences(payload.get("aud")):
        raise TokenError("bad_audience")
    _check_times(payload, policy, now)
    return AccessTokenClaims(payload)


def _check_required(payload: dict[str, Any], names: Iterable[str]) -> None:
    for name in ("exp", *names):
        if name not in payload:
            raise TokenError("missing_claim", name)


def _audiences(aud: Any) -> list[str]:
    if isinstance(aud, str):
        return [aud]
    if isinstance(aud, list):
        return [a for a in aud if isinstance(a, str)]
    return []


def _check_times(payload: dict[str, Any], policy: ClaimsPolicy, now: float) -> None:
    exp = _number(payload, "exp")
    nbf = _number(payload, "nbf")
    iat = _number(payload, "iat")
    if exp is not None and exp <= now - policy.leeway:
        raise TokenError("expired")
    if nbf is not None and nbf > now + policy.leeway:
        raise TokenError("not_yet_valid")
    if iat is not None and iat > now + policy.leeway:
        raise TokenError("issued_in_future")
    _check_age(iat, policy, now)


def _check_age(iat: int | float | None, policy: ClaimsPolicy, now: float) -> None:
    if policy.max_token_age is None:
        return
    if iat is None:
        raise TokenError("missing_claim", "iat")
    if now - iat > policy.max_token_age + policy.leeway:
        raise TokenError("too_old")


def _number(payload: dict[str, Any], name: str) -> int | float | None:
    """The NumericDate ``name``, as parsed (ints are compared exactly, never overflow a float)."""
    if name not in payload:
        return None
    value = payload[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TokenError("invalid_claim", name)
    return value
