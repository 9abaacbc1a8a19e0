"""The strict JSON parser's shortcuts (skip the depth scan when there are too few brackets to
nest that deep; skip the surrogate scan when no escape can produce one) refuse exactly what
the full checks refuse."""

from __future__ import annotations

import pytest

from authserver.edge.json_input import MalformedJSON, parse_json


def test_nesting_past_the_bound_is_refused_and_at_the_bound_accepted():
    assert parse_json(b"[" * 3 + b"]" * 3, max_depth=3) == [[[]]]
    with pytest.raises(MalformedJSON, match="nested deeper"):
        parse_json(b"[" * 4 + b"]" * 4, max_depth=3)
    assert parse_json(b'{"a": "[[[[[["}', max_depth=3) == {"a": "[[[[[["}  # brackets inside a string


def test_a_lone_surrogate_is_refused_from_an_escape_or_a_str():
    with pytest.raises(MalformedJSON, match="not valid Unicode"):
        parse_json(b'{"a": "\\ud800"}')
    with pytest.raises(MalformedJSON, match="not valid Unicode"):
        parse_json('{"a": "\ud800"}')
    assert parse_json(b'{"a": "\\u00e9", "b": "\xc3\xa9"}') == {"a": "é", "b": "é"}


def test_invalid_utf8_is_refused():
    with pytest.raises(MalformedJSON, match="not UTF-8"):
        parse_json(b'{"a": "\xed\xa0\x80"}')  # an encoded surrogate is not UTF-8
