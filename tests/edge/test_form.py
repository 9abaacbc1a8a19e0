"""RFC 6749 Appendix B form bodies: the strict parser, and the parameters it hands on."""

from __future__ import annotations

import pytest
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from werkzeug.datastructures import ImmutableMultiDict

from authserver.edge.form import FORM_MEDIA_TYPE, parse_form

BODY = b"grant_type=x&audience=a&audience=b&scope=&count=7&name=J%C3%BCrgen+M"


def test_parameters_read_as_werkzeug_reads_them():
    """``get`` answers what werkzeug's MultiDict answers for every kind of key: absent (the
    default, without raising), blank, repeated (the first), typed and badly typed."""
    form = parse_form(BODY, FORM_MEDIA_TYPE)
    reference = ImmutableMultiDict(list(form.items(multi=True)))
    for key in ("grant_type", "audience", "scope", "count", "name", "absent"):
        assert form.get(key) == reference.get(key)
        assert form.get(key, "fallback") == reference.get(key, "fallback")
        assert form.get(key, type=int) == reference.get(key, type=int)
    assert form.get("absent") is None and form.get("scope") == "" and form.get("count", type=int) == 7
    assert form.getlist("audience") == ["a", "b"] and form["name"] == "Jürgen M"
    with pytest.raises(KeyError):
        form["absent"]


@pytest.mark.parametrize("body, content_type, message", [
    (b"grant_type=a&grant_type=b", FORM_MEDIA_TYPE, "'grant_type' is repeated"),
    (b"a=%00", FORM_MEDIA_TYPE, "NUL bytes"),
    (b"a=%ff", FORM_MEDIA_TYPE, "not a valid UTF-8 form"),
    (b"a=\xc3\xbc", FORM_MEDIA_TYPE, "not a valid UTF-8 form"),  # raw bytes: percent-encode them
    (b"a=1", "application/json", "must be application/x-www-form-urlencoded"),
])
def test_defects_are_invalid_requests(body, content_type, message):
    with pytest.raises(InvalidRequestError) as refused:
        parse_form(body, content_type)
    assert message in refused.value.description
