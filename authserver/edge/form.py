"""RFC 6749 form bodies (``application/x-www-form-urlencoded``, Appendix B), parsed strictly.

The one parser of OAuth request parameters: the body only (never the query string, RFC 6749
§3.2), its bytes UTF-8 after percent-decoding, no parameter twice (§3.1, §3.2: "MUST NOT be
included more than once") except the ones a specification lets repeat, and no NUL byte.
Unknown parameters are kept and ignored later (§3.2). The result is what Authlib and the
grants read; nothing past this point sees the raw body.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from werkzeug.datastructures import ImmutableMultiDict

#: RFC 8693 §2.1 / RFC 8707 §2: these may appear more than once.
REPEATABLE = frozenset({"audience", "resource"})
FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"


class FormParameters(ImmutableMultiDict):
    """The parsed parameters. ``get`` of an absent one answers ``default`` without raising:
    werkzeug's builds a ``BadRequestKeyError`` for every miss, and a token request asks for
    about ten optional parameters it usually does not carry."""

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        values = dict.get(self, key)
        if not values:
            return default
        return values[0] if type is None else super().get(key, default, type)


def parse_form(body: bytes, content_type: str | None) -> FormParameters:
    """The parameters of an OAuth form body; raises ``invalid_request`` on any defect."""
    if body and (content_type or "").split(";")[0].strip().lower() != FORM_MEDIA_TYPE:
        raise InvalidRequestError(description=f"The body must be {FORM_MEDIA_TYPE}.")
    try:
        text = body.decode("ascii")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequestError(description="The body is not a valid UTF-8 form.") from None
    seen: set[str] = set()
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            raise InvalidRequestError(description="Parameters must not contain NUL bytes.")
        if name in seen and name not in REPEATABLE:
            raise InvalidRequestError(description=f"The parameter {_printable(name)} is repeated.")
        seen.add(name)
    return FormParameters(pairs)


def _printable(name: str) -> str:
    """A parameter name fit for ``error_description`` (RFC 6749 §5.2 characters only)."""
    safe = "".join(c for c in name[:40] if 0x20 <= ord(c) <= 0x7E and c not in '"\\')
    return f"'{safe}'" if safe else "given"
