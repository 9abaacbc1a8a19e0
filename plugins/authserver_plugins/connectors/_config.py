"""Configuration checks shared by the connectors.

Every check raises :class:`~authserver.plugin_api.PluginConfigError` naming the bad key,
so bad configuration stops start-up with a message an admin can act on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from authserver.plugin_api import ASYMMETRIC_ALGORITHMS, PluginConfigError

#: Default upstream signing algorithms: the ones IdPs actually use.
DEFAULT_ALGORITHMS = ("RS256", "ES256", "PS256", "EdDSA")

_LOOPBACK_NAMES = {"localhost"}


def refuse_unknown_keys(config: Mapping[str, Any], known: Iterable[str]) -> None:
    """Refuse keys this connector does not understand (a typo must not pass silently)."""
    if not isinstance(config, Mapping):
        raise PluginConfigError("config", "must be a mapping")
    unknown = sorted(set(config) - set(known))
    if unknown:
        raise PluginConfigError(unknown[0], "unknown setting")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (IPv4 or IPv6)."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def https_url(value: Any, key: str) -> str:
    """An absolute ``https`` URL, or ``http`` only on a loopback host."""
    if not isinstance(value, str) or not value:
        raise PluginConfigError(key, "must be a non-empty URL")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - validates the port (raises ValueError)
    except ValueError:
        raise PluginConfigError(key, "is not a valid URL (host or port)") from None
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise PluginConfigError(key, "must be an absolute https URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise PluginConfigError(key, "http is allowed only on loopback; use https")
    if parts.fragment:
        raise PluginConfigError(key, "must not have a fragment")
    return value


def string(value: Any, key: str) -> str:
    """A non-empty string."""
    if not isinstance(value, str) or not value.strip():
        raise PluginConfigError(key, "must be a non-empty string")
    return value


def string_list(value: Any, key: str) -> list[str]:
    """A non-empty list of non-empty strings (a single string is accepted as a list of one)."""
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise PluginConfigError(key, "must be a non-empty list of strings")
    return [string(item, key) for item in value]


def boolean(value: Any, key: str) -> bool:
    """A real boolean: ``"false"`` is a string, not False, so it is refused."""
    if not isinstance(value, bool):
        raise PluginConfigError(key, "must be true or false")
    return value


def algorithms(value: Any, key: str = "algorithms") -> tuple[str, ...]:
    """A subset of :data:`ASYMMETRIC_ALGORITHMS`; defaults to :data:`DEFAULT_ALGORITHMS`."""
    if value is None:
        return DEFAULT_ALGORITHMS
    names = string_list(value, key)
    for name in names:
        if name not in ASYMMETRIC_ALGORITHMS:
            raise PluginConfigError(key, f"{name!r} is not an allowed asymmetric algorithm")
    return tuple(dict.fromkeys(names))


def claim_mapping(value: Any, key: str = "claim_mapping") -> dict[str, str]:
    """``{our claim name: upstream claim name}``, both non-empty strings."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PluginConfigError(key, "must be a mapping of claim names")
    return {string(ours, key): string(theirs, key) for ours, theirs in value.items()}
