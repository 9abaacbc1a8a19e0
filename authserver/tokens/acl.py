"""ACL claims: the chat backend's template filled in per user, and what a backend
assertion may ask for (only rules the template already grants)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

ALL_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def fill_template(template: list[dict] | None, user_id: str | None, uid: str) -> list[dict] | None:
    if not template:
        return None
    subject = user_id or uid
    return [{**rule, "path": rule["path"].replace("{user_id}", subject).replace("{uid}", uid)}
            for rule in template]


def restrict(requested: Iterable[Mapping[str, Any]] | None, granted: list[dict] | None) -> list[dict] | None:
    """The requested rules that the filled template covers; without a request, the template."""
    if requested is None:
        return granted
    if not granted:
        return None
    allowed = [dict(rule) for rule in requested if _covered(rule, granted)]
    return allowed or None


def _covered(rule: Mapping[str, Any], granted: list[dict]) -> bool:
    path = rule.get("path")
    if not isinstance(path, str):
        return False
    methods = _methods(rule)
    return any(_path_within(path, g["path"]) and methods <= _methods(g) for g in granted)


def _methods(rule: Mapping[str, Any]) -> frozenset[str]:
    methods = rule.get("methods")
    if not methods or "*" in methods:
        return ALL_METHODS
    return frozenset(m.upper() for m in methods if isinstance(m, str))


def _path_within(path: str, pattern: str) -> bool:
    """Whether every path matched by ``path`` is matched by ``pattern`` (``*``, ``**`` globs)."""
    return _segments_within(path.strip("/").split("/"), pattern.strip("/").split("/"))


def _segments_within(path: list[str], pattern: list[str]) -> bool:
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
