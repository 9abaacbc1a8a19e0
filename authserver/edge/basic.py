"""RFC 6749 §2.3.1 client credentials in HTTP Basic (RFC 7617), parsed strictly.

``client_id`` and ``client_secret`` are form-urlencoded (Appendix B) before base64, so they
are percent-decoded after it. Exactly one ``Authorization`` header; the scheme, base64 and
UTF-8 must be valid, the colon present. Any defect is ``invalid_client`` (401), never a 500.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

from authlib.oauth2.rfc6749.errors import InvalidClientError


@dataclass(frozen=True)
class BasicCredentials:
    client_id: str
    client_secret: str


def parse_basic(authorization_headers: list[str]) -> BasicCredentials | None:
    """The Basic credentials of a request, None without Basic; raises ``invalid_client``."""
    basic = [h for h in authorization_headers if h.split(" ", 1)[0].lower() == "basic"]
    if not basic:
        return None
    if len(authorization_headers) != 1:
        raise _malformed()
    scheme, _, encoded = basic[0].partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _malformed() from None
    client_id, colon, secret = decoded.partition(":")
    if not colon or not client_id:
        raise _malformed()
    return BasicCredentials(_form_decoded(client_id), _form_decoded(secret))


def _form_decoded(value: str) -> str:
    try:
        text = unquote_to_bytes(value.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed() from None
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise _malformed()
    return text


def _malformed() -> InvalidClientError:
    return InvalidClientError(status_code=401, description="Client authentication failed.")
