"""Input validation shared by the CLI, the admin API and dynamic registration.

Each function takes the raw value and the field name, and returns the normalized value or
raises :class:`~authserver.errors.InvalidInput` with a message naming the field.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlparse

from authserver.errors import InvalidInput

# RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E
SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5b\x5d-\x7e]+\Z")
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,254}\Z")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "*")
ACL_PLACEHOLDERS = re.compile(r"\{([^}]*)\}")


def text(value: Any, field: str, max_length: int = 255, required: bool = True) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise InvalidInput(f"{field}: must be a non-empty string of at most {max_length} characters")
    return value.strip()


def identifier(value: Any, field: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise InvalidInput(f"{field}: {value!r} is not a valid identifier (letters, digits and "
                           "._:/@+- , at most 255 characters, no spaces)")
    return value


def scopes(value: Any, field: str = "scopes") -> list[str]:
    """A space-separated string or a list of scope tokens, de-duplicated in order."""
    items = value.split() if isinstance(value, str) else value
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise InvalidInput(f"{field}: must be a space-separated string or a list of strings")
    for scope in items:
        if not SCOPE_TOKEN.match(scope):
            raise InvalidInput(f"{field}: {scope!r} is not a valid scope token (RFC 6749 §3.3)")
    return list(dict.fromkeys(items))


def string_list(value: Any, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise InvalidInput(f"{field}: must be a list of non-empty strings")
    return list(dict.fromkeys(value))


def boolean(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"{field}: must be true or false")
    return value


def integer(value: Any, field: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidInput(f"{field}: must be an integer from {minimum} to {maximum}")
    return value


def is_loopback_host(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def https_url(value: Any, field: str, allow_loopback_http: bool = True) -> str:
    """An absolute https URL (http only on loopback), without a fragment."""
    if not isinstance(value, str) or len(value) > 2048:
        raise InvalidInput(f"{field}: must be a URL string of at most 2048 characters")
    parsed = parse_url(value, field)
    if parsed.fragment or "#" in value:
        raise InvalidInput(f"{field}: {value!r} must not contain a fragment")
    loopback_http = allow_loopback_http and parsed.scheme == "http" and is_loopback_host(parsed.hostname)
    if not parsed.netloc or (parsed.scheme != "https" and not loopback_http):
        raise InvalidInput(f"{field}: {value!r} must be an absolute https URL "
                           "(http is allowed only on loopback)")
    return value


def parse_url(value: str, field: str):
    """``urlparse`` that never raises: a malformed authority (``https://[::1/cb``), a bad port,
    whitespace or control characters are one :class:`InvalidInput` naming the field."""
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in value):
        raise InvalidInput(f"{field}: a URL must not contain spaces or control characters")
    try:
        parsed = urlparse(value)
        parsed.port  # noqa: B018 - validates the port (raises ValueError)
        parsed.hostname  # noqa: B018
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not a valid URL") from None
    return parsed


def acl_template(value: Any, field: str = "acl_template") -> list[dict] | None:
    """A list of ``{"path": "/v1/users/{user_id}/**", "methods": [...], "filters": {...}}``.

    Placeholders ``{user_id}`` and ``{uid}`` are filled per user when a token is issued.
    """
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise InvalidInput(f"{field}: must be a non-empty JSON list of rules")
    return [_acl_rule(rule, f"{field}[{i}]") for i, rule in enumerate(value)]


def _acl_rule(rule: Any, field: str) -> dict:
    if not isinstance(rule, dict) or set(rule) - {"path", "methods", "filters"}:
        raise InvalidInput(f"{field}: must be an object with path, optional methods and filters")
    path = rule.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise InvalidInput(f"{field}.path: must be a string starting with '/'")
    unknown = set(ACL_PLACEHOLDERS.findall(path)) - {"user_id", "uid"}
    if unknown:
        raise InvalidInput(f"{field}.path: unknown placeholder(s) {', '.join(sorted(unknown))}; "
                           "use {user_id} or {uid}")
    normalized: dict = {"path": path}
    if "methods" in rule:
        methods = [m.upper() for m in string_list(rule["methods"], f"{field}.methods")]
        if not methods or set(methods) - set(HTTP_METHODS):
            raise InvalidInput(f"{field}.methods: must be a non-empty list of HTTP methods")
        normalized["methods"] = methods
    if "filters" in rule:
        if not isinstance(rule["filters"], dict):
            raise InvalidInput(f"{field}.filters: must be an object")
        normalized["filters"] = rule["filters"]
    return normalized


def only_fields(data: Any, allowed: set[str], what: str) -> dict:
    if not isinstance(data, dict):
        raise InvalidInput(f"{what}: expected a JSON object")
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise InvalidInput(f"{what}: unknown field(s) {', '.join(unknown)}")
    return data
