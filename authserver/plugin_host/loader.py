"""Discovery of plugins through entry points. Installing a plugin enables nothing: an IdP
connection or a chat backend must name it."""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points

from authserver.errors import InvalidInput
from authserver.plugin_api import CONNECTOR_GROUP, PROFILE_GROUP, Connector, TokenProfile


@cache
def _entry_points(group: str) -> dict:
    return {ep.name: ep for ep in entry_points(group=group)}


def connector_names() -> list[str]:
    return sorted(_entry_points(CONNECTOR_GROUP))


def profile_names() -> list[str]:
    return sorted(_entry_points(PROFILE_GROUP))


@cache
def connector_class(name: str) -> type[Connector]:
    return _load(CONNECTOR_GROUP, name, "connector", Connector)


@cache
def profile_class(name: str) -> type[TokenProfile]:
    return _load(PROFILE_GROUP, name, "token profile", TokenProfile)


def _load(group: str, name: str, kind: str, base: type):
    entry = _entry_points(group).get(name)
    if entry is None:
        known = ", ".join(sorted(_entry_points(group))) or "none installed"
        raise InvalidInput(f"unknown {kind} {name!r} (known: {known})")
    cls = entry.load()
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise InvalidInput(f"{kind} {name!r} ({entry.value}) is not a {base.__name__}")
    return cls


def describe() -> list[dict]:
    """Every installed plugin, for ``authserver plugins list``."""
    rows = []
    for group, kind in ((CONNECTOR_GROUP, "connector"), (PROFILE_GROUP, "token_profile")):
        for name, entry in sorted(_entry_points(group).items()):
            rows.append({"kind": kind, "name": name, "target": entry.value,
                         "distribution": entry.dist.name if entry.dist else None})
    return rows
