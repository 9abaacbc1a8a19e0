"""OpenID Connect Core 1.0 §5.1 standard claims: normalizing an upstream profile.

Upstreams disagree on types (``email_verified`` as the string ``"true"``, numeric ids,
blank names); the core receives the profile claims under their OIDC names with OIDC types,
and any other verified claim unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Profile claims the core reads, all strings except ``email_verified``.
PROFILE_CLAIMS = ("email", "name", "given_name", "family_name", "picture", "preferred_username")


def normalize_profile(claims: Mapping[str, Any],
                      mapping: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Every claim of ``claims``, with ``mapping`` ({our name: upstream name}) applied and the
    profile claims coerced to OIDC types (dropped when unusable)."""
    result = dict(claims)
    for ours, theirs in (mapping or {}).items():
        if theirs in claims:
            result[ours] = claims[theirs]
    for name in PROFILE_CLAIMS:
        _keep_if(result, name, _text(result.get(name)))
    _keep_if(result, "email_verified", _flag(result.get("email_verified")))
    return result


def stringify_subject(value: Any) -> str | None:
    """A subject as a non-empty string; integers (GitHub's ``id``) are stringified."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip():
        return value
    return None


def _keep_if(claims: dict[str, Any], name: str, value: Any) -> None:
    if value is None:
        claims.pop(name, None)
    else:
        claims[name] = value


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None
