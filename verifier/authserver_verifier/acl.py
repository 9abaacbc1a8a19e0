"""The ``acl`` claim of the authserver chat JWT: which chat API calls a user may make.

authserver fills a chat backend's ACL template for the user and puts the result in the
``acl`` claim. Each filled value is percent-encoded: every character outside
``A-Za-z0-9-._~!$&'()+,;=:@`` becomes ``%XX`` of its UTF-8 bytes (so ``*`` is ``%2A``, ``/`` is
``%2F``, ``%`` is ``%25``), and a value that is exactly ``.`` or ``..`` becomes ``%2E`` /
``%2E%2E``. For the template ``/v1/users/{user_id}/**`` and the user ``*``::

    "acl": [
        {"path": "/v1/users/%2A/**", "methods": ["GET", "PATCH"]},
        {"path": "/v1/rooms/*/messages", "methods": ["GET", "POST"]},
        {"path": "/v1/me"}
    ]

Each entry grants the listed HTTP ``methods`` on the request paths its ``path`` matches.

* ``path`` is matched segment by segment (segments are separated by ``/``):

  - a segment that is exactly ``*`` matches exactly one non-empty segment:
    ``/v1/rooms/*/messages`` matches ``/v1/rooms/42/messages`` but not ``/v1/rooms/messages``
    nor ``/v1/rooms/4/2/messages``;
  - a segment that is exactly ``**`` matches zero or more segments, at any depth (Ant
    style): ``/v1/users/u1/**`` matches ``/v1/users/u1``, ``/v1/users/u1/devices`` and
    ``/v1/users/u1/a/b/c``;
  - every other segment is a literal: it is percent-decoded (UTF-8), then must equal the
    request segment exactly (case-sensitive). So ``%2A`` matches only a request segment
    ``*``, ``%2A%2A`` only ``**``, ``msg-*`` only ``msg-*``: a filled value never acts as a
    wildcard. A decoded ``/`` stays inside its segment (``a%2Fb`` matches no request
    segment), and a decoded ``.`` or ``..`` matches nothing (see the request path below).
    ``+`` is not a space. A segment that is not valid percent-encoding (``100%``,
    ``%zz``, bytes that are not UTF-8) matches nothing.

* ``methods`` is matched case-insensitively. A missing ``methods`` means every method;
  ``"*"`` in the list also means every method; an empty list grants nothing.
  ``HEAD`` is not implied by ``GET``.

* A token **without** an ``acl`` claim carries no path restrictions: authserver leaves the
  claim out only for chat backends that have no ACL template, so
  ``AccessTokenClaims.acl_allows`` answers True (pass :data:`NO_ACL` to :func:`acl_allows`
  for the same answer). A backend with a template always gets an ``acl`` list, possibly
  empty. When the claim is present, anything is denied unless some entry allows it: an
  empty list allows nothing, an ``acl`` that is not a list (``null`` included) allows
  nothing, and malformed entries are ignored, never treated as wildcards.

* The request path must be the *decoded* path without query string (Flask's
  ``request.path``). Paths that are relative or contain ``.`` / ``..`` segments are
  refused outright, so ``/v1/users/u1/../u2`` cannot borrow ``u1``'s grant. Empty segments
  (``//`` and a trailing ``/``) are ignored on both sides.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import unquote_to_bytes

__all__ = ["NO_ACL", "acl_allows", "path_matches"]


class _Absent(enum.Enum):
    NO_ACL = "NO_ACL"


#: Stands for "the token has no ``acl`` claim": ``acl_allows(claims.get("acl", NO_ACL), ...)``.
NO_ACL: Final = _Absent.NO_ACL


class _Wildcard(enum.Enum):
    ONE = "*"
    ANY = "**"


_WILDCARDS = {"*": _Wildcard.ONE, "**": _Wildcard.ANY}
_PERCENT_ENCODED = re.compile(r"(?:[^%]|%[0-9A-Fa-f]{2})*")
Segment = str | _Wildcard


def acl_allows(acl: Any, method: str, path: str) -> bool:
    """True when the ``acl`` claim value grants ``method`` on ``path``.

    ``acl`` is :data:`NO_ACL` when the token has no ``acl`` claim: no path restrictions, True.
    Otherwise it must be a list, and some well-formed entry must allow the call.
    """
    if acl is NO_ACL:
        return True
    request = _request_segments(path)
    if request is None or not isinstance(acl, list):
        return False
    return any(_entry_allows(entry, method, request) for entry in acl)


def path_matches(pattern: str, path: str) -> bool:
    """True when the ACL ``pattern`` matches the (decoded) request ``path``."""
    request = _request_segments(path)
    compiled = _pattern_segments(pattern) if isinstance(pattern, str) else None
    return request is not None and compiled is not None and _match(compiled, request)


def _entry_allows(entry: Any, method: str, request: list[str]) -> bool:
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        return False
    if not _method_allowed(entry.get("methods"), method):
        return False
    pattern = _pattern_segments(entry["path"])
    return pattern is not None and _match(pattern, request)


def _method_allowed(methods: Any, method: str) -> bool:
    if methods is None:
        return True
    if not isinstance(methods, list):
        return False
    wanted = method.upper()
    return any(isinstance(m, str) and m.upper() in (wanted, "*") for m in methods)


def _segments(path: str) -> list[str]:
    return [s for s in path.split("/") if s]


def _pattern_segments(pattern: str) -> list[Segment] | None:
    """Wildcards for the raw ``*`` / ``**``, decoded literals otherwise; None if undecodable."""
    compiled: list[Segment] = []
    for raw in _segments(pattern):
        segment = _WILDCARDS[raw] if raw in _WILDCARDS else _percent_decode(raw)
        if segment is None:
            return None
        compiled.append(segment)
    return compiled


def _percent_decode(segment: str) -> str | None:
    if "%" not in segment:
        return segment
    if not _PERCENT_ENCODED.fullmatch(segment):
        return None
    try:
        return unquote_to_bytes(segment).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _request_segments(path: str) -> list[str] | None:
    if not isinstance(path, str) or not path.startswith("/"):
        return None
    segments = _segments(path)
    if any(s in (".", "..") for s in segments):
        return None
    return segments


def _match(pattern: Sequence[Segment], path: Sequence[str]) -> bool:
    """Segment glob match, as a set of pattern positions: linear in ``len(pattern) * len(path)``."""
    states = _skip_any(pattern, {0})
    for segment in path:
        advanced = set()
        for i in states:
            if i == len(pattern):
                continue
            head = pattern[i]
            if head is _Wildcard.ANY:
                advanced.add(i)  # ``**`` takes this segment and may take more
            elif head is _Wildcard.ONE or head == segment:
                advanced.add(i + 1)
        states = _skip_any(pattern, advanced)
        if not states:
            return False
    return len(pattern) in states


def _skip_any(pattern: Sequence[Segment], states: set[int]) -> set[int]:
    """``states`` plus the positions reached by letting each ``**`` match zero segments."""
    reached, pending = set(states), list(states)
    while pending:
        i = pending.pop()
        if i < len(pattern) and pattern[i] is _Wildcard.ANY and i + 1 not in reached:
            reached.add(i + 1)
            pending.append(i + 1)
    return reached
