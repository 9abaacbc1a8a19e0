"""Vonage profile against the official ``vonage-jwt`` SDK: ``JwtClient.generate_application_jwt``
with the same inputs gives the same header and claim structure; both verify with the
application's public key. (``vonage_jwt.verify_signature`` checks Vonage's HS256 *webhook*
signatures, not client JWTs, so it does not apply here.)"""

from __future__ import annotations

import jwt as pyjwt
import pytest

from authserver.plugin_testing.profiles import public_pem_of, rsa_pem, sample_token, sign
from authserver_plugins.profiles.vonage import (
    DEFAULT_ACL_PATHS,
    VonageProfile,
    acl_paths,
)

vonage_jwt = pytest.importorskip("vonage_jwt", reason="the vonage-jwt SDK is not installed")

APP_ID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
ACL = ({"path": "/*/users/**"}, {"path": "/*/conversations/**", "methods": ["GET", "POST"]},
       {"path": "/*/sessions/**", "filters": {"user": "alice"}})


def _decode(token: str) -> dict:
    return pyjwt.decode(token, public_pem_of(rsa_pem()), algorithms=["RS256"])


def test_same_header_and_claims_as_the_sdk():
    token = sample_token(acl=ACL)
    ours = sign(VonageProfile({"application_id": APP_ID, "private_key": rsa_pem()}).shape(token))
    client = vonage_jwt.JwtClient(APP_ID, rsa_pem())
    ref = client.generate_application_jwt({
        "sub": "alice", "iat": token.issued_at, "exp": token.expires_at,
        "acl": {"paths": acl_paths(ACL)},
    }).decode()
    assert pyjwt.get_unverified_header(ours) == pyjwt.get_unverified_header(ref)
    mine, theirs = _decode(ours), _decode(ref)
    assert set(mine) == set(theirs)
    assert {k: v for k, v in mine.items() if k != "jti"} == {
        k: v for k, v in theirs.items() if k != "jti"}
    assert mine["jti"] == token.jti


def test_acl_from_the_filled_template():
    assert acl_paths(ACL) == {
        "/*/users/**": {},
        "/*/conversations/**": {"methods": ["GET", "POST"]},
        "/*/sessions/**": {"filters": {"user": "alice"}},
    }


def test_default_client_sdk_paths_without_acl():
    claims = VonageProfile({"application_id": APP_ID, "private_key": rsa_pem()}).shape(
        sample_token()).claims
    assert list(claims["acl"]["paths"]) == list(DEFAULT_ACL_PATHS)
    assert all(rule == {} for rule in claims["acl"]["paths"].values())


def test_public_info_has_the_public_key():
    info = VonageProfile({"application_id": APP_ID, "private_key": rsa_pem()}).public_info()
    assert info == {"application_id": APP_ID, "public_key": public_pem_of(rsa_pem())}
