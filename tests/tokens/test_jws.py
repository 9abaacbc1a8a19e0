"""The realm keys' compact JWS signer (authserver.tokens.jws): what it signs, joserfc verifies,
for every signing algorithm, and its header is the one asked for."""

from __future__ import annotations

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from authserver.edge.jose_compact import parse_compact
from authserver.keys import jose
from authserver.tokens.jws import CompactSigner, Signers

CLAIMS = {"iss": "http://auth.test/realms/default", "sub": "Zoë", "aud": "chat-api", "exp": 2_000_000_000,
          "iat": 1_800_000_000, "jti": "j-1", "acl": [{"path": "/v1/users/%2A/**", "methods": ["GET"]}]}


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
def test_joserfc_verifies_what_it_signs(alg):
    key = jose.generate_private_key(alg)
    public = jose.public_jwk(key, alg)
    token = CompactSigner(alg, key).sign({"typ": "at+jwt", "kid": public["kid"]}, CLAIMS)
    decoded = jwt.decode(token, KeySet.import_key_set({"keys": [public]}), algorithms=[alg])
    assert decoded.header == {"typ": "at+jwt", "kid": public["kid"], "alg": alg}
    assert decoded.claims == CLAIMS


def test_the_same_token_as_joserfc_but_the_signature():
    key = jose.generate_private_key("ES256")
    header = {"typ": "at+jwt", "kid": "k"}
    ours = CompactSigner("ES256", key).sign(header, CLAIMS).rsplit(".", 1)[0]
    theirs = jose.sign_jwt(header, CLAIMS, key, "ES256").rsplit(".", 1)[0]
    assert ours == theirs  # ECDSA signatures differ each time; header and payload do not


def test_headers_are_encoded_once_per_distinct_header_and_never_mixed():
    signer = CompactSigner("ES256", jose.generate_private_key("ES256"))
    first = signer.sign({"typ": "at+jwt", "kid": "a"}, CLAIMS)
    second = signer.sign({"typ": "JWT", "kid": "a"}, CLAIMS)
    assert parse_compact(first, 16384).header["typ"] == "at+jwt"
    assert parse_compact(second, 16384).header["typ"] == "JWT"
    unhashable = signer.sign({"kid": "a", "x5c": ["abc"]}, CLAIMS)
    assert parse_compact(unhashable, 16384).header["x5c"] == ["abc"]


def test_a_new_key_under_a_known_kid_gets_a_new_signer():
    signers, old, new = Signers(), jose.generate_private_key("ES256"), jose.generate_private_key("ES256")
    assert signers.for_key("k", "ES256", old) is signers.for_key("k", "ES256", old)
    assert signers.for_key("k", "ES256", new).key is new


def test_unknown_algorithms_are_refused():
    with pytest.raises(ValueError, match="HS256"):
        CompactSigner("HS256", jose.generate_private_key("ES256"))
