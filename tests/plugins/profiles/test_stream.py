"""Stream profile against the official ``stream-chat`` SDK: ``StreamChat.create_token`` with
the same inputs gives the same header and claims, verifiable with the same API secret."""

from __future__ import annotations

import jwt as pyjwt
import pytest

from authserver.plugin_testing.profiles import sample_token, sign
from authserver_plugins.profiles.stream import StreamProfile

from .helpers import STREAM_SECRET

stream_chat = pytest.importorskip("stream_chat", reason="the stream-chat SDK is not installed")

CRED = {"api_key": "mmhfdzb5evj2", "api_secret": STREAM_SECRET}


def test_same_token_as_the_sdk():
    token = sample_token()
    ours = sign(StreamProfile(CRED).shape(token))
    client = stream_chat.StreamChat(api_key=CRED["api_key"], api_secret=STREAM_SECRET)
    ref = client.create_token("alice", exp=token.expires_at, iat=token.issued_at)
    assert pyjwt.get_unverified_header(ours) == pyjwt.get_unverified_header(ref)
    assert pyjwt.decode(ours, STREAM_SECRET, algorithms=["HS256"]) == pyjwt.decode(
        ref, STREAM_SECRET, algorithms=["HS256"])


def test_public_info_shows_only_the_api_key():
    assert StreamProfile(CRED).public_info() == {"api_key": "mmhfdzb5evj2"}
