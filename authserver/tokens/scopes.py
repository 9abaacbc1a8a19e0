"""Scope arithmetic (RFC 6749 §3.3), decided by the core only.

granted = requested ∩ client's ∩ backend's; with nothing requested, the backend's
defaults ∩ client's. Nothing left is ``invalid_scope``.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidScopeError


def grant_scopes(requested: str | None, client_scopes: list[str],
                 backend_scopes: list[str] | None, backend_defaults: list[str] | None = None) -> list[str]:
    allowed = [s for s in client_scopes if backend_scopes is None or s in backend_scopes]
    if requested is None or not requested.strip():
        wanted = backend_defaults if backend_defaults is not None else allowed
    else:
        wanted = requested.split()
    granted = [s for s in dict.fromkeys(wanted) if s in allowed]
    if not granted:
        raise InvalidScopeError(description="None of the requested scopes may be granted.")
    return granted


def narrow_scopes(requested: str | None, held: list[str]) -> list[str]:
    """Re-scoping one of our tokens: never more than it holds."""
    if requested is None or not requested.strip():
        return list(held)
    wanted = list(dict.fromkeys(requested.split()))
    extra = [s for s in wanted if s not in held]
    if extra:
        raise InvalidScopeError(description=f"The subject token does not hold: {' '.join(extra)}")
    return wanted
