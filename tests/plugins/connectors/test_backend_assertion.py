"""backend_assertion connector: RFC 7523 assertions signed by the app's own backend."""

from __future__ import annotations

import itertools
import json

import pytest
from joserfc.jwk import KeySet, OctKey

from authserver.plugin_api import (
    TOKEN_TYPE_JWT,
    InvalidSubjectToken,
    VerificationRequest,
)
from authserver.plugin_testing.connectors import (
    b64decode,
    ec_key,
    hmac_with_public_key,
    make_context,
    rsa_key,
    sign,
    tamper,
    unsigned,
)
from authserver_plugins.connectors.backend_assertion import BackendAssertionConnector

ISSUER = "https://auth.example/realms/default"
CLIENT = "backend-app"
SECRET = b"s" * 32
_jti = itertools.count()


def request(*keys, secret: bytes | None = None) -> VerificationRequest:
    keyset = KeySet.import_key_set({"keys": [k.as_dict(private=False) for k in keys]}) if keys else None
    return VerificationRequest(issuer=ISSUER, client_id=CLIENT, client_keys=keyset, shared_secret=secret)


def claims(clock, **overrides):
    now = int(clock())
    base = {"iss": CLIENT, "sub": "u-1", "aud": ISSUER, "iat": now, "exp": now + 60,
            "jti": f"j-{next(_jti)}", **overrides}
    return {k: v for k, v in base.items() if v is not None}


def token_jti(token: str) -> str:
    return json.loads(b64decode(token.split(".")[1]))["jti"]


def verify(context, token, req=None, **config):
    connector = BackendAssertionConnector(config, context)
    return connector.verify(token, TOKEN_TYPE_JWT, req or request(ec_key("app-1")))


def refused(context, token, req=None, **config) -> InvalidSubjectToken:
    with pytest.raises(InvalidSubjectToken) as caught:
        verify(context, token, req, **config)
    return caught.value


def test_full_assertion(context, clock):
    acl = [{"path": "/v1/conversations/**", "methods": ["get", "POST"]}]
    token = sign(claims(clock, given_name="Ada", family_name="Lovelace", email="ada@example.com",
                        custom={"plan": "gold"}, workspace="acme", acl=acl, role="admin"),
                 ec_key("app-1"))
    identity = verify(context, token)
    assert identity.subject == "u-1"
    assert identity.claims == {"given_name": "Ada", "family_name": "Lovelace", "email": "ada@example.com",
                               "email_verified": True}
    assert identity.custom == {"plan": "gold"}
    assert identity.workspace == "acme"
    assert identity.acl == ({"path": "/v1/conversations/**", "methods": ["GET", "POST"]},)
    assert identity.expires_at == int(clock()) + 60
    assert identity.single_use_id == token_jti(token)


def test_jti_is_returned_as_single_use_id_and_not_spent(context, clock):
    token = sign(claims(clock, jti="only-once"), ec_key("app-1"))
    assert verify(context, token).single_use_id == "only-once"
    assert verify(context, token).single_use_id == "only-once"  # the core's replay cache spends it


@pytest.mark.parametrize("asserted, verified", [({}, True), ({"email_verified": True}, True),
                                                ({"email_verified": False}, False),
                                                ({"email_verified": "false"}, False)])
def test_asserted_email_counts_as_verified_unless_it_says_otherwise(context, clock, asserted, verified):
    token = sign(claims(clock, email="ada@example.com", **asserted), ec_key("app-1"))
    assert verify(context, token).claims == {"email": "ada@example.com", "email_verified": verified}


def test_email_verified_without_an_email_is_dropped(context, clock):
    token = sign(claims(clock, email_verified=True), ec_key("app-1"))
    assert verify(context, token).claims == {}


@pytest.mark.parametrize("overrides, reason", [
    ({"iss": "someone-else"}, "'iss'"),
    ({"aud": "https://elsewhere.example"}, "'aud'"),
    ({"aud": [CLIENT]}, "'aud'"),
    ({"sub": None}, "'sub'"), ({"sub": ""}, "'sub'"), ({"sub": "   "}, "sub is blank"), ({"sub": 42}, "'sub'"),
    ({"jti": None}, "'jti'"), ({"jti": 7}, "'jti'"), ({"exp": None}, "'exp'"), ({"iat": None}, "'iat'"),
    ({"custom": "not-an-object"}, "'custom'"), ({"workspace": 3}, "'workspace'"),
    ({"workspace": ""}, "'workspace'"), ({"acl": {"path": "/"}}, "'acl'"),
    ({"acl": [{"path": "/"}]}, "acl entry"), ({"acl": [{"path": "/", "methods": [1]}]}, "acl entry"),
])
def test_claim_refusals(context, clock, overrides, reason):
    assert reason in refused(context, sign(claims(clock, **overrides), ec_key("app-1"))).detail


def test_audience_list_containing_our_issuer(context, clock):
    token = sign(claims(clock, aud=["https://other.example", ISSUER]), ec_key("app-1"))
    assert verify(context, token).subject == "u-1"


def test_lifetime_at_most_five_minutes(context, clock):
    now = int(clock())
    assert verify(context, sign(claims(clock, exp=now + 300), ec_key("app-1"))).subject == "u-1"
    error = refused(context, sign(claims(clock, exp=now + 301), ec_key("app-1")))
    assert "lifetime" in error.detail


def test_time_claims_with_skew(context, clock):
    now = int(clock())
    verify(context, sign(claims(clock, iat=now - 200, exp=now - 50), ec_key("app-1")))
    verify(context, sign(claims(clock, nbf=now + 50), ec_key("app-1")))
    refused(context, sign(claims(clock, iat=now - 200, exp=now - 61), ec_key("app-1")))
    refused(context, sign(claims(clock, nbf=now + 61), ec_key("app-1")))
    refused(context, sign(claims(clock, iat=now + 120, exp=now + 180), ec_key("app-1")))


def test_time_claims_with_the_configured_skew(http, clock):
    strict = make_context(http, clock, clock_skew=0)
    now = int(clock())
    verify(strict, sign(claims(clock, iat=now - 200, exp=now + 1), ec_key("app-1")))
    refused(strict, sign(claims(clock, iat=now - 200, exp=now), ec_key("app-1")))  # RFC 7519 §4.1.4
    refused(strict, sign(claims(clock, nbf=now + 1), ec_key("app-1")))
    refused(strict, sign(claims(clock, iat=now + 1, exp=now + 60), ec_key("app-1")))
    lenient = make_context(http, clock, clock_skew=300)
    verify(lenient, sign(claims(clock, iat=now - 400, exp=now - 250), ec_key("app-1")))


def test_signature_refusals(context, clock):
    assert "BadSignature" in refused(context, tamper(sign(claims(clock), ec_key("app-1")))).detail
    assert "no ES256 key" in refused(context, sign(claims(clock), ec_key("intruder"))).detail
    lookalike = sign(claims(clock), ec_key("intruder"), kid="app-1")
    assert "BadSignature" in refused(context, lookalike).detail
    no_keys = refused(context, sign(claims(clock), ec_key("app-1")), request())
    assert "no registered keys" in no_keys.detail


def test_alg_none_refused(context, clock):
    assert "'none'" in refused(context, unsigned(claims(clock), kid="app-1")).detail


def test_hmac_with_public_key_refused(context, clock):
    key = rsa_key("app-rsa")
    req = request(key, secret=SECRET)
    assert verify(context, sign(claims(clock), key, "RS256"), req).subject == "u-1"
    forged = hmac_with_public_key(claims(clock), key)
    assert "'HS256' not in allow-list" in refused(context, forged, req, allow_hs256=False).detail
    assert "BadSignature" in refused(context, forged, req).detail  # the secret is not the public key


def test_hs256_only_when_allowed_and_a_secret_exists(context, clock):
    """HS256 needs a secret the core hands over (one exists only when an admin asked the
    server to generate it); ``allow_hs256: false`` refuses it even then."""
    hs = OctKey.import_key(SECRET, parameters={"kid": "shared"})

    def token() -> str:
        return sign(claims(clock), hs, "HS256")

    refused(context, token(), request(ec_key("app-1"), secret=SECRET), allow_hs256=False)
    refused(context, token(), request(ec_key("app-1")))
    assert verify(context, token(), request(secret=SECRET)).subject == "u-1"


def test_short_shared_secret_refused(context, clock):
    short = b"twenty-byte-secret!!"
    token = sign(claims(clock), OctKey.import_key(short, parameters={"kid": "s"}), "HS256")
    error = refused(context, token, request(secret=short), allow_hs256=True)
    assert "shorter" in error.detail


def test_asymmetric_algorithm_outside_allow_list(context, clock):
    refused(context, sign(claims(clock), ec_key("app-1")), None, algorithms=["RS256"])


def test_kid_optional_with_a_single_registered_key(context, clock):
    assert verify(context, sign(claims(clock), ec_key("app-1"), kid=None)).subject == "u-1"
    refused(context, sign(claims(clock), ec_key("app-1"), kid=None), request(ec_key("app-1"), ec_key("app-2")))
