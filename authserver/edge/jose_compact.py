"""RFC 7515 §7.1 compact serialization, parsed strictly before any signature is checked.

Every JWT the server reads (subject tokens routed by ``iss``, client assertions, our own
access tokens) is split here first: three base64url segments (no padding, RFC 7515 §2),
a header and a payload that are UTF-8 JSON objects (RFC 7515 §5.2, RFC 8725 §3.7) with
unique member names and bounded nesting, the whole bounded in size. A token that passes is
safe to hand to joserfc, which re-reads the same bytes; one that does not is refused with
:class:`MalformedToken` and never reaches a JSON parser that could recurse or guess an
encoding.

A token is often parsed twice in one request (routed by ``iss``, then read by its
verifier): each thread remembers the last token it parsed and hands out new top-level
dicts of its header and payload, so a caller that sets a member changes nothing for the next.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from dataclasses import dataclass
from typing import Any

from authserver.edge.json_input import MalformedJSON, parse_json_object
from authserver.errors import InvalidInput

_B64URL = re.compile(r"[A-Za-z0-9_-]+")
MAX_DEPTH = 16
_last = threading.local()  # .token, .parsed: the last token this thread parsed


class MalformedToken(InvalidInput):
    """Not a compact JWS this server reads; the message is safe to log (no token content)."""


@dataclass(frozen=True)
class CompactJWS:
    header: dict[str, Any]
    payload: dict[str, Any]
    signature: bytes


def parse_compact(token: Any, max_bytes: int) -> CompactJWS:
    """The decoded, not yet verified, parts of ``token``; raises :class:`MalformedToken`."""
    if not isinstance(token, str) or not token:
        raise MalformedToken("the token is empty or not a string")
    if len(token) > max_bytes:
        raise MalformedToken(f"the token is larger than {max_bytes} bytes")
    if getattr(_last, "token", None) == token:
        return _copy(_last.parsed)
    parsed = _parse(token)
    _last.token, _last.parsed = token, parsed
    return _copy(parsed)


def _copy(parsed: CompactJWS) -> CompactJWS:
    return CompactJWS(header=dict(parsed.header), payload=dict(parsed.payload), signature=parsed.signature)


def _parse(token: str) -> CompactJWS:
    parts = token.split(".")
    if len(parts) != 3 or not all(_B64URL.fullmatch(p) for p in parts[:2]) \
            or (parts[2] and not _B64URL.fullmatch(parts[2])):
        raise MalformedToken("the token is not a compact JWS (three base64url segments)")
    header = _json_segment(parts[0], "header")
    payload = _json_segment(parts[1], "payload")
    return CompactJWS(header=header, payload=payload, signature=_b64decode(parts[2]))


def peek_claim(token: Any, name: str, max_bytes: int) -> str | None:
    """A string claim of an unverified token (only to route it to its verifier), or None."""
    try:
        value = parse_compact(token, max_bytes).payload.get(name)
    except MalformedToken:
        return None
    return value if isinstance(value, str) else None


def _json_segment(segment: str, what: str) -> dict[str, Any]:
    try:
        return parse_json_object(_b64decode(segment), max_depth=MAX_DEPTH, what=f"the JOSE {what}")
    except MalformedJSON as exc:
        raise MalformedToken(exc.message) from None


def _b64decode(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError):
        raise MalformedToken("a token segment is not base64url") from None
