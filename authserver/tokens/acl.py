"""ACL claims: the chat backend's template filled in per user, and what a backend
assertion may ask for (only rules the template already grants).

A filled value is never path syntax: every character outside RFC 3986 ``pchar`` less
``%`` and ``*`` is percent-encoded (``*`` → ``%2A``, ``/`` → ``%2F``), and a value that is
``.`` or ``..`` becomes ``%2E`` / ``%2E%2E``. A user whose id is ``*`` therefore gets the
literal path ``/v1/users/%2A/**``, which no verifier treats as a wildcard (the verifier
library compares literal segments after percent-decoding, and only a raw ``*``/``**``
segment is a wildcard).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote

ALL_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
#: RFC 3986 §3.3 pchar without "%" (always encoded) and "*" (a wildcard to ACL matchers).
_SAFE = "-._~!$&'()+,;=:@"


def escape_segment(value: str) -> str:
    """``value`` as one literal path segment that no ACL matcher reads as a wildcard."""
    if value in (".", ".."):
        return "%2E" * len(value)
    return quote(value, safe=_SAFE)


def fill_template(template: list[dict] | None, user_id: str | None, uid: str) -> list[dict] | None:
    if not template:
        return None
    subject = escape_segment(user_id or uid)
    return [{**rule, "path": rule["path"].replace("{user_id}", subject).replace("{uid}", escape_segment(uid))}
            for rule in template]


def restrict(requested: Iterable[Mapping[str, Any]] | None, granted: list[dict] | None) -> list[dict] | None:
    """The requested rules that the filled template covers; without a request, the template.

    With a template, the result is always a list (maybe empty: nothing allowed), so a token
    for an ACL'd backend always carries its ``acl``; without one, None (no ACL at all)."""
    if granted is None:
        return None
    if requested is None:
        return granted
    return [dict(rule) for rule in requested if _covered(rule, granted)]


def _covered(rule: Mapping[str, Any], granted: list[dict]) -> bool:
    path = rule.get("path")
    if not isinstance(path, str):
        return False
    methods = _methods(rule)
    return any(_path_within(path, g["path"]) and methods <= _methods(g) for g in granted)


def _methods(rule: Mapping[str, Any]) -> frozenset[str]:
    """As the verifier reads them: missing or ``*`` is every method, ``[]`` none."""
    methods = rule.get("methods")
    if methods is None or "*" in methods:
        return ALL_METHODS
    return frozenset(m.upper() for m in methods if isinstance(m, str))


def _path_within(path: str, pattern: str) -> bool:
    """Whether every path matched by ``path`` is matched by ``pattern`` (``*``, ``**`` globs).
    Empty segments are dropped on both sides, as the verifier drops them."""
    return _segments_within(_segments(path), _segments(pattern))


def _segments(path: str) -> tuple[str, ...]:
    return tuple(s for s in path.split("/") if s)


@lru_cache(maxsize=4096)
def _segments_within(path: tuple[str, ...], pattern: tuple[str, ...]) -> bool:
    """Memoized on (suffix, suffix), so ``**`` backtracking is polynomial, not exponential."""
    if not pattern:
        return not path
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_segments_within(path[i:], rest) for i in range(len(path) + 1))
    if not path or path[0] == "**":
        return False
    if head == "*" or head == path[0]:
        return _segments_within(path[1:], rest)
    return False
