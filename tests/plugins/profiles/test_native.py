"""Native profile: the chat JWT of DESIGN.md ("The chat JWT", RFC 9068)."""

from __future__ import annotations

import jwt as pyjwt

from authserver.plugin_api import TOKEN_TYPE_ACCESS_TOKEN
from authserver.plugin_testing.profiles import public_pem_of, realm_signing_key, sample_token, sign
from authserver_plugins.profiles.native import NativeProfile

FULL = {"custom": {"tier": "gold"}, "unverified": {"email": "a@example.test"},
        "acl": ({"path": "/rooms/*", "methods": ("GET",)},), "workspace": "acme",
        "act": {"sub": "support-bot"}, "sid": "sess-1"}


def _claims(**overrides) -> dict:
    shaped = NativeProfile().shape(sample_token(**overrides))
    assert shaped.header == {"typ": "at+jwt"} and shaped.key is None
    token = sign(shaped)
    assert pyjwt.get_unverified_header(token)["kid"] == realm_signing_key().thumbprint()
    pem = public_pem_of(realm_signing_key().as_pem(private=True).decode())
    return pyjwt.decode(token, pem, algorithms=["ES256"], audience="chat-api")


def test_every_claim_when_present():
    claims = _claims(**FULL)
    assert claims == {
        "iss": "https://auth.example.test/realms/default", "sub": "alice", "aud": "chat-api",
        "exp": claims["iat"] + 600, "iat": claims["iat"], "jti": "jti-0123456789",
        "client_id": "web", "scope": "chat:read chat:write", "uid": "u_8f3a2c",
        "identified": True, "verified": True, "idp": "google", "name": "Alice Liddell",
        "given_name": "Alice", "family_name": "Liddell", "custom": {"tier": "gold"},
        "unverified": {"email": "a@example.test"},
        "acl": [{"path": "/rooms/*", "methods": ["GET"]}], "workspace": "acme",
        "act": {"sub": "support-bot"}, "sid": "sess-1",
    }


def test_absent_optional_claims_are_omitted():
    claims = _claims(idp=None, name=None, given_name=None, family_name=None, identified=False,
                     verified=False, subject="u_8f3a2c", email="x@example.test")
    assert set(claims) == {"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope",
                           "uid", "identified", "verified"}
    assert claims["identified"] is False and claims["sub"] == claims["uid"]


def test_is_an_access_token_without_credential():
    assert NativeProfile.issued_token_type == TOKEN_TYPE_ACCESS_TOKEN
    assert not NativeProfile.requires_credential and NativeProfile().credential is None
