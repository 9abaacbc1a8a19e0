"""The strict compact-JWS parser remembers the last token of each thread: a second parse of
the same token must behave exactly as the first (same bounds, no shared mutable state)."""

from __future__ import annotations

import base64
import json
import threading

import pytest

from authserver.edge.jose_compact import MalformedToken, parse_compact


def _segment(value: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


TOKEN = f"{_segment({'alg': 'ES256'})}.{_segment({'iss': 'https://idp', 'act': {'sub': 'a'}})}.c2ln"


def test_a_second_parse_gets_its_own_dicts():
    first = parse_compact(TOKEN, 1024)
    first.payload["iss"] = "changed"
    first.header.clear()
    second = parse_compact(TOKEN, 1024)
    assert second.payload["iss"] == "https://idp" and second.header == {"alg": "ES256"}
    assert second.signature == b"sig"


def test_the_size_bound_holds_for_a_remembered_token():
    parse_compact(TOKEN, 1024)
    with pytest.raises(MalformedToken, match="larger than"):
        parse_compact(TOKEN, len(TOKEN) - 1)


def test_a_malformed_token_is_refused_every_time():
    bad = f"{_segment({'alg': 'ES256'})}.e30x.c2ln"  # payload segment is not JSON
    for _ in range(2):
        with pytest.raises(MalformedToken):
            parse_compact(bad, 1024)
    assert parse_compact(TOKEN, 1024).payload["iss"] == "https://idp"


def test_threads_remember_their_own_token():
    other = f"{_segment({'alg': 'RS256'})}.{_segment({'iss': 'https://other'})}.c2ln"
    parse_compact(TOKEN, 1024)
    seen = []
    thread = threading.Thread(target=lambda: seen.append(parse_compact(other, 1024).payload["iss"]))
    thread.start()
    thread.join()
    assert seen == ["https://other"] and parse_compact(TOKEN, 1024).payload["iss"] == "https://idp"
