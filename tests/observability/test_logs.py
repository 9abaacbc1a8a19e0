"""Redaction's fast path: for ASCII text it finds what the case-insensitive patterns find."""

from __future__ import annotations

import pytest

from authserver.observability import logs

SAMPLES = [
    "client_secret=abc&x=1", "CLIENT_SECRET=abc", "Token: xyz", "Subject_Token=eyJx", "password='p4ss'",
    '{"access_token": "abc.def", "path": "/realms/default/token"}', "Authorization: Basic dXNlcjpwYXNz",
    "AUTHORIZATION=Bearer abc", "authorization: dpop tok", "nothing secret here", "tokens and secrets",
    "clİent_secret=unicode-i", "ſecret=long-s", "refresh_token = \"r\" , other",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_fast_redaction_matches_the_case_insensitive_patterns(text):
    slow = logs._SECRET_PARAM.sub(r"\1[redacted]", logs._AUTHORIZATION.sub(r"\1[redacted]", text))
    fast = logs._caseless_sub(logs._SECRET_PARAM, logs._SECRET_PARAM_LOWER,
                              logs._caseless_sub(logs._AUTHORIZATION, logs._AUTHORIZATION_LOWER, text))
    assert fast == slow


def test_the_case_sensitive_twins_hold_no_upper_case_letter():
    """Their letters must all be lower case, or matching ``text.lower()`` would miss some."""
    for pattern in (logs._SECRET_PARAM_LOWER, logs._AUTHORIZATION_LOWER):
        assert not any(c.isupper() for c in pattern.pattern.replace("\\S", "").replace("\\W", ""))
        assert "\\S" not in pattern.pattern and "\\W" not in pattern.pattern and "\\D" not in pattern.pattern
