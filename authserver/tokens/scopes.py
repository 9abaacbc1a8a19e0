"""Scope arithmetic (RFC 6749 §3.3), decided by the core only.

``scope`` is parsed strictly: scope-tokens of ``%x21 / %x23-5B / %x5D-7E`` separated by
single spaces (a tab, a double space or a leading space is ``invalid_scope``).
granted = requested ∩ client's ∩ backend's; with nothing requested, the backend's
defaults ∩ client's. Nothing left is ``invalid_scope``.
"""

from __future__ import annotations

import re

from authlib.oauth2.rfc6749.errors import InvalidScopeError

SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*")
MAX_SCOPE_LENGTH = 2048


def parse_scope(value: str | None) -> list[str] | None:
    """The requested scopes, de-duplicated in order; None when the parameter is absent or empty."""
    if value is None or value == "":
        return None
    if len(value) > MAX_SCOPE_LENGTH or not SCOPE.fullmatch(value):
        raise InvalidScopeError(description="scope must be scope-tokens separated by single spaces "
                                "(RFC 6749 section 3.3).")
    return list(dict.fromkeys(value.split(" ")))


def grant_scopes(requested: list[str] | None, client_scopes: list[str],
                 backend_scopes: list[str] | None, backend_defaults: list[str] | None = None) -> list[str]:
    allowed = [s for s in client_scopes if backend_scopes is None or s in backend_scopes]
    defaults = backend_defaults if backend_defaults is not None else allowed
    wanted = defaults if requested is None else requested
    granted = [s for s in dict.fromkeys(wanted) if s in allowed]
    if not granted:
        raise InvalidScopeError(description="None of the requested scopes may be granted.")
    return granted


def narrow_scopes(requested: list[str] | None, held: list[str]) -> list[str]:
    """Re-scoping one of our tokens: never more than it holds."""
    if requested is None:
        return list(held)
    extra = [s for s in requested if s not in held]
    if extra:
        raise InvalidScopeError(description=f"The subject token does not hold: {' '.join(extra)}")
    return requested
