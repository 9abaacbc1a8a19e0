"""Twilio profile against the official ``twilio`` SDK: same header and claim structure as
``AccessToken(...).to_jwt()``, and our token passes ``AccessToken.from_jwt`` verification."""

from __future__ import annotations

import jwt as pyjwt
import pytest

from authserver.plugin_testing.profiles import sample_token, sign
from authserver_plugins.profiles.twilio import TwilioProfile

from .helpers import TWILIO_SECRET, twilio_credential

access_token = pytest.importorskip("twilio.jwt.access_token",
                                   reason="the twilio SDK is not installed")
grants = pytest.importorskip("twilio.jwt.access_token.grants")

CRED = twilio_credential()


def _reference(identity: str, ttl: int) -> str:
    grant = grants.ChatGrant(service_sid=CRED["chat_service_sid"],
                             push_credential_sid=CRED["push_credential_sid"])
    token = access_token.AccessToken(CRED["account_sid"], CRED["api_key_sid"], TWILIO_SECRET,
                                     grants=[grant], identity=identity, ttl=ttl)
    return token.to_jwt()


def _ours(**overrides) -> str:
    return sign(TwilioProfile(CRED).shape(sample_token(**overrides)))


def test_same_header_and_claims_as_the_sdk():
    ours, ref = _ours(), _reference("alice", ttl=600)
    assert pyjwt.get_unverified_header(ours) == pyjwt.get_unverified_header(ref)
    mine = pyjwt.decode(ours, TWILIO_SECRET, algorithms=["HS256"])
    theirs = pyjwt.decode(ref, TWILIO_SECRET, algorithms=["HS256"])
    assert set(mine) == set(theirs) | {"iat"}  # iat as the Node SDK sets it
    for claim in ("iss", "sub", "grants"):
        assert mine[claim] == theirs[claim]
    assert mine["jti"] == f"{CRED['api_key_sid']}-{mine['iat']}"
    assert mine["exp"] - mine["nbf"] == theirs["exp"] - theirs["nbf"] == 600


def test_passes_the_sdk_decoder():
    decoded = access_token.AccessToken.from_jwt(_ours(), key=TWILIO_SECRET)
    assert decoded.payload["grants"]["identity"] == "alice"
    assert decoded.headers["cty"] == "twilio-fpa;v=1"


def test_sdk_decoder_refuses_a_wrong_secret():
    from twilio.jwt import JwtDecodeError
    with pytest.raises(JwtDecodeError):
        access_token.AccessToken.from_jwt(_ours(), key="w" * 32)


def test_endpoint_id_for_a_device_session():
    claims = TwilioProfile(CRED).shape(sample_token(sid="sess-1")).claims
    assert claims["grants"]["chat"]["endpoint_id"] == "alice:sess-1"


def test_lifetime_capped_at_24_hours():
    token = sample_token(expires_at=sample_token().issued_at + 10**6)
    claims = TwilioProfile(CRED).shape(token).claims
    assert claims["exp"] - claims["iat"] == 24 * 3600
