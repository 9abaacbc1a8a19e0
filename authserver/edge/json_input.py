"""RFC 8259 JSON, parsed strictly at the edge: every JSON body and every JOSE segment.

One parser for every JSON the server reads from a client or an upstream (request bodies,
JWT headers and payloads, client assertions), so no caller can forget a bound:

* the input is UTF-8 (RFC 8259 §8.1); UTF-16/32 or invalid bytes are refused, never guessed
  (Python's ``json.loads(bytes)`` would detect and accept UTF-16/32);
* its size is bounded, and so is its nesting depth, *before* parsing (deep nesting would
  otherwise exhaust the interpreter's recursion limit);
* object member names are unique (RFC 8259 §4 leaves duplicates undefined; RFC 7515 §5.2
  and RFC 8725 §3.7 require JOSE parsers to refuse them);
* strings are Unicode scalar values: a lone surrogate (``"\\ud800"``) is refused, because
  it could not be stored or signed later;
* ``NaN`` and ``Infinity`` are refused (not JSON), and so is a number too large for a
  float (``1e400``), which Python would read as infinity.

Anything else raises :class:`MalformedJSON`, a :class:`~authserver.errors.InvalidInput`.
"""

from __future__ import annotations

import json
import math
from typing import Any

from authserver.errors import InvalidInput

MAX_DEPTH = 32
MAX_BYTES = 64 * 1024


class MalformedJSON(InvalidInput):
    """The input is not JSON this server accepts; the message says why, without echoing it."""


def parse_json(raw: bytes | str, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH,
               what: str = "the body") -> Any:
    """The JSON value of ``raw``; raises :class:`MalformedJSON`."""
    text = _utf8_text(raw, max_bytes, what)
    if text.count("[") + text.count("{") > max_depth:  # fewer brackets cannot nest deeper
        _check_depth(text, max_depth, what)
    try:
        value = json.loads(text, object_pairs_hook=_unique_members, parse_constant=_refuse_constant,
                           parse_float=_finite_float)
    except (ValueError, RecursionError):
        raise MalformedJSON(f"{what} is not valid JSON") from None
    if "\\u" in text or not (isinstance(raw, bytes) or text.isascii()):  # else no surrogate possible
        _check_scalar_values(value, what)
    return value


def parse_json_object(raw: bytes | str, **options: Any) -> dict[str, Any]:
    """Like :func:`parse_json`, but the value must be a JSON object."""
    value = parse_json(raw, **options)
    if not isinstance(value, dict):
        raise MalformedJSON(f"{options.get('what', 'the body')} must be a JSON object")
    return value


def _utf8_text(raw: bytes | str, max_bytes: int, what: str) -> str:
    if isinstance(raw, str):
        if len(raw) > max_bytes:
            raise MalformedJSON(f"{what} is larger than {max_bytes} bytes")
        return raw
    if len(raw) > max_bytes:
        raise MalformedJSON(f"{what} is larger than {max_bytes} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJSON(f"{what} is not UTF-8") from None


def _check_depth(text: str, max_depth: int, what: str) -> None:
    """Count bracket nesting outside strings, in one pass, before the recursive parser runs."""
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                raise MalformedJSON(f"{what} is nested deeper than {max_depth} levels")
        elif char in "]}":
            depth -= 1


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError("duplicate member name")
        result[name] = value
    return result


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError("number out of range")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_scalar_values(value: Any, what: str) -> None:
    """Refuse lone surrogates anywhere (member names included): UTF-8 cannot encode them."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedJSON(f"{what} holds a string that is not valid Unicode") from None
