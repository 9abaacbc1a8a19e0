"""Stream Chat user token, as ``stream_chat.StreamChat.create_token`` builds it.

HS256 with the app's API secret; header ``{"typ": "JWT", "alg": "HS256"}``; claims
``user_id`` (the chat user), ``iat`` and ``exp``. Stream sets no lifetime limit of its own.

Stream user ids are ASCII letters, digits, ``@``, ``_`` and ``-``; ours may hold anything
(``corp:Eve.Adams``). :func:`stream_user_id` maps them **injectively** onto that alphabet:
letters, digits, ``@`` and ``-`` are kept, ``_`` is written ``__``, and every other UTF-8 byte
``_xx`` (two lower-case hex digits), so ``corp:Eve.Adams`` → ``corp_3aEve_2eAdams``. Since a
hex digit is never ``_``, the code is prefix-free; :func:`subject_from_stream_user_id`
inverts it. Ids already in the alphabet without ``_`` are unchanged.

Credential: ``api_secret`` and optionally ``api_key`` (public, shown in :meth:`public_info`).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from authserver.plugin_api import GrantedToken, ShapedToken

from ._common import (
    Credential,
    VendorProfile,
    drop_none,
    hmac_key,
    optional_str,
    require_mapping,
    require_secret,
)

HEADER = {"typ": "JWT", "alg": "HS256"}
SECRET_MIN_LENGTH = 32
ALLOWED_KEYS = ("api_key", "api_secret")
LITERAL = frozenset(string.ascii_letters + string.digits + "@-")
ESCAPE = "_"


def stream_user_id(subject: str) -> str:
    """The Stream user id for ``subject`` (injective, see the module docstring)."""
    return "".join(_map_byte(b) for b in subject.encode("utf-8"))


def _map_byte(byte: int) -> str:
    char = chr(byte)
    if char in LITERAL:
        return char
    return ESCAPE * 2 if char == ESCAPE else f"{ESCAPE}{byte:02x}"


def subject_from_stream_user_id(user_id: str) -> str:
    """Inverse of :func:`stream_user_id`."""
    out, i = bytearray(), 0
    while i < len(user_id):
        if user_id[i] != ESCAPE:
            out += user_id[i].encode()
            i += 1
        elif user_id[i + 1] == ESCAPE:
            out += ESCAPE.encode()
            i += 2
        else:
            out.append(int(user_id[i + 1:i + 3], 16))
            i += 3
    return out.decode("utf-8")


class StreamProfile(VendorProfile):
    """Stream Chat user token."""

    name = "stream"

    def __init__(self, credential: Mapping[str, Any] | None = None):
        super().__init__(credential)
        self._key = hmac_key(self.credential["api_secret"])

    @classmethod
    def validate_credential(cls, credential: Mapping[str, Any] | None) -> dict[str, Any]:
        credential = require_mapping(credential, ALLOWED_KEYS)
        return Credential(drop_none({
            "api_key": optional_str(credential, "api_key", pattern="[A-Za-z0-9]{4,64}",
                                    hint="letters and digits"),
            "api_secret": require_secret(credential, "api_secret", min_length=SECRET_MIN_LENGTH),
        }))

    def public_info(self) -> dict[str, Any]:
        return drop_none({"api_key": self.credential.get("api_key")})

    def shape(self, token: GrantedToken) -> ShapedToken:
        claims = {"user_id": stream_user_id(token.subject), "iat": token.issued_at, "exp": self.expiry(token)}
        return ShapedToken(header=dict(HEADER), claims=claims, key=self._key, algorithm="HS256")
