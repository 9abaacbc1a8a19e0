"""RFC 9068 checks of Verifier.verify: header, signature, and claims."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from joserfc.jwk import OKPKey, RSAKey

from authserver_verifier import TokenError, Verifier

from .conftest import AUDIENCE, b64, new_key, segment


def refused(verifier: Verifier, token: str) -> str:
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    assert token not in str(caught.value)
    return caught.value.reason


def test_valid_token_accepted(issuer, verifier):
    claims = verifier.verify(issuer.sign())
    assert claims["sub"] == claims.subject == "alice"
    assert claims.scopes == {"chat:read", "chat:write"}


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+JWT"])
def test_typ_variants_accepted(issuer, verifier, typ):
    assert verifier.verify(issuer.sign(header={"typ": typ}))["aud"] == AUDIENCE


@pytest.mark.parametrize("make_key", [lambda: RSAKey.generate_key(2048), lambda: OKPKey.generate_key("Ed25519")])
def test_rs256_and_eddsa_accepted(issuer, verifier, make_key):
    key = make_key()
    key.ensure_kid()
    issuer.keys.append(key)
    assert verifier.verify(issuer.sign(key=key))["sub"] == "alice"


def test_audience_list_accepted(issuer, verifier):
    assert verifier.verify(issuer.sign(aud=["other", AUDIENCE]))


def test_expired(issuer, verifier, clock):
    assert refused(verifier, issuer.sign(iat=clock() - 600, exp=clock() - 61)) == "expired"


def test_expired_within_leeway_accepted(issuer, verifier, clock):
    assert verifier.verify(issuer.sign(exp=clock() - 30))


def test_nbf_in_future(issuer, verifier, clock):
    assert refused(verifier, issuer.sign(nbf=clock() + 120)) == "not_yet_valid"


def test_iat_in_future(issuer, verifier, clock):
    assert refused(verifier, issuer.sign(iat=clock() + 120)) == "issued_in_future"


def test_max_token_age(issuer, session, clock):
    strict = Verifier(issuer.issuer, AUDIENCE, clock=clock, session=session, max_token_age=60)
    assert refused(strict, issuer.sign(iat=clock() - 200)) == "too_old"
    assert strict.verify(issuer.sign(iat=clock() - 100))  # 100 <= 60 + 60 s leeway


def test_exp_required(issuer, verifier):
    assert refused(verifier, issuer.sign(exp=None)) == "missing_claim"


def test_exp_must_be_a_number(issuer, verifier):
    assert refused(verifier, issuer.sign(exp="tomorrow")) == "invalid_claim"


def test_wrong_audience(issuer, verifier):
    assert refused(verifier, issuer.sign(aud="other-backend")) == "bad_audience"


def test_wrong_issuer(issuer, verifier):
    assert refused(verifier, issuer.sign(iss=issuer.issuer + "/")) == "bad_issuer"
    assert refused(verifier, issuer.sign(iss="https://evil.example/realms/default")) == "bad_issuer"


@pytest.mark.parametrize("typ", ["JWT", "jwt", "at+JWT2", 5])
def test_wrong_typ(issuer, verifier, typ):
    assert refused(verifier, issuer.sign(header={"typ": typ})) == "bad_typ"


def test_missing_typ(issuer, verifier):
    assert refused(verifier, issuer.sign(header={"typ": None})) == "bad_typ"


def test_missing_kid(issuer, verifier):
    assert refused(verifier, issuer.sign(header={"kid": None})) == "missing_kid"


def test_unknown_kid(issuer, verifier):
    assert refused(verifier, issuer.sign(key=new_key())) == "unknown_kid"


def test_alg_none(issuer, verifier):
    header = {"typ": "at+jwt", "alg": "none", "kid": issuer.key.kid}
    token = f"{segment(header)}.{segment(issuer.claims())}."
    assert refused(verifier, token) == "bad_alg"


def test_hs256_signed_with_the_public_key(issuer, verifier):
    header = {"typ": "at+jwt", "alg": "HS256", "kid": issuer.key.kid}
    signing_input = f"{segment(header)}.{segment(issuer.claims())}"
    for secret in (issuer.key.as_pem(private=False), json.dumps(issuer.key.as_dict(private=False)).encode()):
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert refused(verifier, f"{signing_input}.{b64(mac)}") == "bad_alg"


def test_hmac_algorithms_cannot_be_configured(issuer):
    with pytest.raises(ValueError):
        Verifier(issuer.issuer, AUDIENCE, algorithms=["ES256", "HS256"])
    with pytest.raises(ValueError):
        Verifier(issuer.issuer, AUDIENCE, algorithms=["none"])


def test_alg_outside_allow_list(issuer, session, clock):
    es_only = Verifier(issuer.issuer, AUDIENCE, algorithms=["ES256"], clock=clock, session=session)
    key = OKPKey.generate_key("Ed25519")
    key.ensure_kid()
    issuer.keys.append(key)
    assert refused(es_only, issuer.sign(key=key)) == "bad_alg"


def test_alg_that_does_not_fit_the_key(issuer, verifier):
    token = issuer.sign()
    header, payload, signature = token.split(".")
    forged = {**json.loads(base64.urlsafe_b64decode(header + "==")), "alg": "RS256"}
    assert refused(verifier, f"{segment(forged)}.{payload}.{signature}") == "bad_alg"


def test_tampered_payload(issuer, verifier):
    header, _, signature = issuer.sign().split(".")
    tampered = segment(issuer.claims(sub="mallory", scope="chat:admin"))
    assert refused(verifier, f"{header}.{tampered}.{signature}") == "bad_signature"


def test_signature_by_another_key_with_a_published_kid(issuer, verifier):
    impostor = new_key()
    token = issuer.sign(key=impostor, header={"kid": issuer.key.kid})
    assert refused(verifier, token) == "bad_signature"


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d", "!!!.e30.", "e30.e30.e30", "W10.e30.", 42])
def test_malformed(verifier, token):
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    assert caught.value.reason in ("malformed", "bad_typ")


def test_size_limit(issuer, verifier):
    token = issuer.sign(custom={"blob": "x" * 20_000})
    assert refused(verifier, token) == "too_large"


def test_crit_header_refused(issuer, verifier):
    token = issuer.sign(header={"crit": ["x-ext"], "x-ext": 1})
    assert refused(verifier, token) == "malformed"


def test_error_message_has_reason_not_token(issuer, verifier):
    token = issuer.sign(aud="x")
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    text = str(caught.value) + repr(caught.value)
    assert "bad_audience" in text and token.split(".")[1] not in text
