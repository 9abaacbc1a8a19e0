"""The ``acl`` claim of the authserver chat JWT: which chat API calls a user may make.

authserver fills a chat backend's ACL template for the user (``{uid}`` and friends are
already replaced when the token is issued), and puts the result in the ``acl`` claim::

    "acl": [
        {"path": "/v1/users/u_8f3a/**", "methods": ["GET", "PATCH"]},
        {"path": "/v1/rooms/*/messages", "methods": ["GET", "POST"]},
        {"path": "/v1/me"}
    ]

Each entry grants the listed HTTP ``methods`` on the request paths its ``path`` matches.

* ``path`` is matched segment by segment (segments are separated by ``/``):

  - a literal segment matches itself exactly (case-sensitive);
  - ``*`` matches exactly one non-empty segment: ``/v1/rooms/*/messages`` matches
    ``/v1/rooms/42/messages`` but not ``/v1/rooms/messages`` nor ``/v1/rooms/4/2/messages``;
  - ``**`` matches zero or more segments, at any depth (Ant style): ``/v1/users/u1/**``
    matches ``/v1/users/u1``, ``/v1/users/u1/devices`` and ``/v1/users/u1/a/b/c``;
  - a ``*`` inside a segment (``msg-*``) has no special meaning: it is matched literally.

* ``methods`` is matched case-insensitively. A missing ``methods`` means every method;
  ``"*"`` in the list also means every method; an empty list grants nothing.
  ``HEAD`` is not implied by ``GET``.

* Anything is denied unless some entry allows it. A token without an ``acl`` claim
  allows nothing through :func:`acl_allows` (a backend whose tokens carry no ACL should
  not call it). Malformed entries are ignored, never treated as wildcards.

* The request path must be the *decoded* path without query string (Flask's
  ``request.path``). Paths that are relative or contain ``.`` / ``..`` segments are
  refused outright, so ``/v1/users/u1/../u2`` cannot borrow ``u1``'s grant. Empty segments
  (``//`` and a trailing ``/``) are ignored on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["acl_allows", "path_matches"]


def acl_allows(acl: Any, method: str, path: str) -> bool:
    """True when some entry of ``acl`` grants ``method`` on ``path``."""
    request = _request_segments(path)
    if request is None or not isinstance(acl, list):
        return False
    return any(_entry_allows(entry, method, request) for entry in acl)


def path_matches(pattern: str, path: str) -> bool:
    """True when the ACL ``pattern`` matches the request ``path``."""
    request = _request_segments(path)
    return request is not None and _match(_segments(pattern), request)


def _entry_allows(entry: Any, method: str, request: list[str]) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        return False
    return _method_allowed(entry.get("methods"), method) and _match(_segments(entry["path"]), request)


def _method_allowed(methods: Any, method: str) -> bool:
    if methods is None:
        return True
    if not isinstance(methods, list):
        return False
    wanted = method.upper()
    return any(isinstance(m, str) and m.upper() in (wanted, "*") for m in methods)


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _request_segments(path: str) -> list[str] | None:
    if not isinstance(path, str) or not path.startswith("/"):
        return None
    segments = _segments(path)
    if any(s in (".", "..") for s in segments):
        return None
    return segments


def _match(pattern: Sequence[str], path: Sequence[str]) -> bool:
    """Segment glob match; ``**`` backtracks over zero or more segments."""
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match(rest, path[i:]) for i in range(len(path) + 1))
    if not path:
        return False
    return (head == "*" or head == path[0]) and _match(rest, path[1:])
