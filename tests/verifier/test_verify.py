"""RFC 9068 checks of Verifier.verify: header, signature, and claims."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from joserfc.jwk import OKPKey, RSAKey

from authserver_verifier import TokenError, Verifier

from .conftest import AUDIENCE, b64, new_key, refused, segment, sign_raw


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


@pytest.mark.parametrize("iss", [None, 5, "", "LIST"])
def test_missing_or_odd_issuer(issuer, verifier, iss):
    token = issuer.sign(iss=[issuer.issuer] if iss == "LIST" else iss)  # None: no iss at all
    assert refused(verifier, token) == "bad_issuer"


@pytest.mark.parametrize("aud", [None, 5, {"chat-api": True}, [["chat-api"]], [], ["other"], "chat-api ", "CHAT-API"])
def test_missing_or_odd_audience(issuer, verifier, aud):
    assert refused(verifier, issuer.sign(aud=aud)) == "bad_audience"


def test_missing_subject(issuer, verifier):
    assert refused(verifier, issuer.sign(sub=None)) == "missing_claim"


@pytest.mark.parametrize("name", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", ["1", True, None, [1], {"t": 1}])
def test_time_claims_must_be_numbers(issuer, verifier, name, value):
    token = sign_raw(issuer_header(issuer), {**issuer.claims(), name: value}, issuer.key)  # None: JSON null
    assert refused(verifier, token) == "invalid_claim"


def test_exp_boundary(issuer, verifier, clock):
    assert refused(verifier, issuer.sign(iat=clock() - 600, exp=clock() - 60)) == "expired"
    assert verifier.verify(issuer.sign(iat=clock() - 600, exp=clock() - 59))


def test_nbf_within_leeway_accepted(issuer, verifier, clock):
    assert verifier.verify(issuer.sign(nbf=clock() + 60))
    assert refused(verifier, issuer.sign(nbf=clock() + 61)) == "not_yet_valid"


@pytest.mark.parametrize("kid", ["", 5, ["k"], {"kid": "k"}, True])
def test_kid_must_be_a_non_empty_string(issuer, verifier, kid):
    assert refused(verifier, issuer.sign(header={"kid": kid})) == "missing_kid"


@pytest.mark.parametrize("alg", [None, "None", "NONE", "nOnE", "HS384", "HS512", "es256", "ES256 ", 256, ["ES256"]])
def test_alg_refused(issuer, verifier, alg):
    header = {k: v for k, v in issuer_header(issuer).items() if k != "alg"}
    if alg is not None:
        header["alg"] = alg
    assert refused(verifier, sign_raw(header, issuer.claims(), issuer.key)) == "bad_alg"


def test_alg_none_with_a_signature(issuer, verifier):
    header = {"typ": "at+jwt", "alg": "none", "kid": issuer.key.kid}
    real = issuer.sign().split(".")[2]
    assert refused(verifier, f"{segment(header)}.{segment(issuer.claims())}.{real}") == "bad_alg"


@pytest.mark.parametrize("signature", ["", "AA", b64(b"\0" * 64), b64(b"\xff" * 64)])
def test_missing_or_garbage_signature(issuer, verifier, signature):
    header, payload, _ = issuer.sign().split(".")
    assert refused(verifier, f"{header}.{payload}.{signature}") == "bad_signature"


def test_truncated_or_der_signature(issuer, verifier):
    header, payload, signature = issuer.sign().split(".")
    raw = base64.urlsafe_b64decode(signature + "==")
    assert refused(verifier, f"{header}.{payload}.{b64(raw[:-1])}") == "bad_signature"
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    assert refused(verifier, f"{header}.{payload}.{b64(der)}") == "bad_signature"


def test_signature_moved_to_another_header(issuer, verifier):
    _, payload, signature = issuer.sign().split(".")
    header = segment({**issuer_header(issuer), "typ": "application/at+jwt"})
    assert refused(verifier, f"{header}.{payload}.{signature}") == "bad_signature"


@pytest.mark.parametrize("segment_index", [0, 1, 2])
def test_non_base64url_segment(issuer, verifier, segment_index):
    parts = issuer.sign().split(".")
    parts[segment_index] = parts[segment_index][:-2] + "+/"
    assert refused(verifier, ".".join(parts)) == "malformed"


@pytest.mark.parametrize("make_key", [lambda: RSAKey.generate_key(2048), lambda: OKPKey.generate_key("Ed25519")])
def test_rs256_and_eddsa_tampered(issuer, verifier, make_key):
    key = make_key()
    key.ensure_kid()
    issuer.keys.append(key)
    header, _, signature = issuer.sign(key=key).split(".")
    assert refused(verifier, f"{header}.{segment(issuer.claims(sub='mallory'))}.{signature}") == "bad_signature"


def test_bytes_token_accepted_and_non_ascii_refused(issuer, verifier):
    token = issuer.sign()
    assert verifier.verify(token.encode())["sub"] == "alice"
    assert refused(verifier, token[:-1] + "é") == "malformed"
    with pytest.raises(TokenError, match="malformed"):
        verifier.verify((token[:-1] + "é").encode())


def issuer_header(issuer) -> dict:
    return {"typ": "at+jwt", "alg": "ES256", "kid": issuer.key.kid}
