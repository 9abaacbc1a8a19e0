"""Stream profile: user ids mapped injectively onto Stream's alphabet (letters, digits, @, _, -)."""

from __future__ import annotations

import re

import pytest

from authserver.plugin_testing.profiles import sample_token
from authserver_plugins.profiles.stream import StreamProfile, stream_user_id, subject_from_stream_user_id

from .helpers import STREAM_SECRET

STREAM_ID = re.compile(r"^[A-Za-z0-9@_-]+$")
SAMPLE = ["alice", "Alice", "user-1", "alice@example.com", "corp:Eve.Adams", "corp_Eve.Adams", "corp_3aEve",
          "_", "__", "_3a", ":", "a b", "Zoë", "アリス", "🙂", "u_8f3a2c", "a/b+c", "a__b", "x" * 50, "@"]


@pytest.mark.parametrize(("subject", "expected"), [
    ("alice", "alice"),
    ("Eve-99@corp", "Eve-99@corp"),           # already valid and without "_": unchanged
    ("corp:Eve.Adams", "corp_3aEve_2eAdams"),
    ("u_8f3a2c", "u__8f3a2c"),
    ("a b", "a_20b"),
    ("Zoë", "Zo_c3_ab"),
])
def test_mapping(subject, expected):
    assert stream_user_id(subject) == expected
    assert subject_from_stream_user_id(expected) == subject


def test_injective_and_in_streams_alphabet_on_a_sample():
    mapped = [stream_user_id(s) for s in SAMPLE]
    assert len(set(mapped)) == len(SAMPLE)
    for subject, user_id in zip(SAMPLE, mapped, strict=True):
        assert STREAM_ID.match(user_id), user_id
        assert subject_from_stream_user_id(user_id) == subject


def test_the_token_carries_the_mapped_id():
    shaped = StreamProfile({"api_secret": STREAM_SECRET}).shape(sample_token(subject="corp:Eve.Adams"))
    assert shaped.claims["user_id"] == "corp_3aEve_2eAdams"
