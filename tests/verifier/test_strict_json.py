"""The I-JSON parser on its own: the depth scan agrees with the parser on every shape."""

from __future__ import annotations

import json
import random

import pytest

from authserver_verifier.strict_json import MAX_DEPTH, loads_object

TRICKY_STRINGS = ["", "[", "]{", '"', "\\", '\\"[', "}}]]", "\\u005b", "é[", '[{"', "\\\\"]


def depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def random_value(rng: random.Random, levels: int):
    """A value nested exactly ``levels`` deep, with shallower siblings and tricky strings."""
    if levels == 0:
        return rng.choice([1, -2.5, True, None, *TRICKY_STRINGS])
    items = [random_value(rng, rng.randint(0, min(levels - 1, 2))) for _ in range(rng.randint(0, 2))]
    items.insert(rng.randint(0, len(items)), random_value(rng, levels - 1))
    if rng.random() < 0.5:
        return items
    return {rng.choice(TRICKY_STRINGS) + str(i): item for i, item in enumerate(items)}


def test_depth_scan_agrees_with_the_structure():
    rng = random.Random(7468)
    for levels in [*range(MAX_DEPTH - 3, MAX_DEPTH + 4)] * 15:
        value = {"v": random_value(rng, levels - 1)}
        assert depth(value) == levels
        data = json.dumps(value, ensure_ascii=rng.random() < 0.5).encode()
        if levels <= MAX_DEPTH:
            assert loads_object(data) == value
        else:
            with pytest.raises(ValueError, match="deep"):
                loads_object(data)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 40,  # unclosed
        "]" * 40 + "{}",  # closes first
        "[}" * 40,  # mismatched
        '{"a": "' + "[" * 40,  # unterminated string, brackets inside
        '{"a": 1}' + "[]" * 40,  # trailing data
        "[" * 40 + '"' + "]" * 40,
    ],
)
def test_malformed_shapes_refused(text):
    with pytest.raises(ValueError):
        loads_object(text.encode())


def test_brackets_in_strings_and_escapes_are_not_nesting():
    value = {"a": "[" * 100, "b": ['\\"]' * 50, {"c": "\\\\" + "{" * 50}], "[[[": "]]]"}
    assert loads_object(json.dumps(value).encode()) == value


def test_duplicates_and_constants():
    assert loads_object(b'{"a": {"b": 1}, "c": {"b": 2}}') == {"a": {"b": 1}, "c": {"b": 2}}
    for text in (b'{"a": 1, "a": 1}', b'{"a": {"b": 1, "b": 2}}', b'{"a": NaN}', b'{"a": 1e999}', b"[]", b'"x"'):
        with pytest.raises(ValueError):
            loads_object(text)
