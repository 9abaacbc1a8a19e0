"""RFC 7493 I-JSON objects, as RFC 7515 section 5.2 and RFC 8725 section 3.7 want the JOSE
header and the JWT claims: one strict parser, so no two readers can see different claims.

:func:`loads_object` refuses, with ``ValueError``:

* anything that is not UTF-8 (no UTF-16/UTF-32 detection, no byte order mark, no encoded
  surrogates), and trailing data;
* duplicate member names, at any depth;
* strings holding a lone surrogate (``"\\ud800"``);
* ``NaN``, ``Infinity`` and numbers too large for a float (``1e400``);
* nesting deeper than ``max_depth`` containers, found by a scan *before* parsing, so no
  input can exhaust the stack;
* a value that is not an object.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["MAX_DEPTH", "loads_object"]

MAX_DEPTH = 32
# The depth scan, all in the regex engine: the text up to its first unterminated string (a
# parser fails there, so nothing further can nest), strings removed, then brackets only.
_LEXABLE = re.compile(r'(?:[^"]++|"(?:[^"\\]++|\\.)*+")*+', re.DOTALL)
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]++")
_INNERMOST = re.compile(r"\[\]|\{\}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def loads_object(data: bytes, max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """The JSON object in ``data``; ValueError (or its UnicodeDecodeError) when not I-JSON."""
    text = data.decode("utf-8")
    if text.count("{") + text.count("[") > max_depth and _too_deep(text, max_depth):
        raise ValueError("JSON nested too deeply")
    value = _DECODER.decode(text)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise ValueError("lone surrogate")
    return value


def _too_deep(text: str, limit: int) -> bool:
    """True when containers nest deeper than ``limit``, or do not pair up (invalid JSON anyway)."""
    lexable = text[: _LEXABLE.match(text).end()]  # type: ignore[union-attr] - matches "" at least
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", lexable))
    for _ in range(limit):  # each round peels one level: every innermost pair goes
        if not brackets:
            return False
        brackets, peeled = _INNERMOST.subn("", brackets)
        if not peeled:
            return True
    return bool(brackets)


def _has_lone_surrogate(value: Any) -> bool:
    """Only reached when the text escapes a surrogate; a valid pair decodes to one character."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    members = dict(pairs)
    if len(members) != len(pairs):
        raise ValueError("duplicate member name")
    return members


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError("number out of range")
    return number


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_members, parse_float=_finite, parse_constant=_refuse_constant)
