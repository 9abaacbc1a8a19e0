"""Matrix profile: the injective localpart mapping (Matrix spec, Appendices, "Mapping from
other character sets") and the Synapse ``jwt_config`` it publishes."""

from __future__ import annotations

import string

import jwt as pyjwt
import pytest

from authserver.plugin_api import PluginConfigError
from authserver.plugin_testing.profiles import ec_pem, public_pem_of, rsa_pem, sample_token, sign
from authserver_plugins.profiles.matrix import (
    DEFAULT_MAX_LOCALPART,
    LocalpartError,
    MatrixProfile,
    localpart,
    subject_from_localpart,
)

ALLOWED = set(string.ascii_lowercase + string.digits + "=_-./+")
SAMPLE = ["alice", "Alice", "ALICE", "aLiCe", "alice@example.com", "alice:example.com",
          "@alice:example.com", "_alice", "__alice", "a_lice", "a__lice", "alice_", "Zoë",
          "zoë", "ZOË", "アリス", "a=b", "a=3db", "=5falice", "a b", "a/b", "a+b", "12345",
          "=312345", "1", "0", "x" * 50, "🙂", "a.b-c", "A", "_", "__", "_a", "=", "=5f"]


@pytest.mark.parametrize(("subject", "expected"), [
    ("alice", "alice"),
    ("aLice", "a_lice"),
    ("Alice", "=5falice"),           # "_alice" would start with "_": refused by Synapse
    ("_bob", "=5f_bob"),
    ("a_b", "a__b"),
    ("alice@example.com", "alice=40example.com"),
    ("alice:example.com", "alice=3aexample.com"),
    ("a=b", "a=3db"),
    ("Zoë", "=5fzo=c3=ab"),
    ("a+b/c.d-e", "a+b/c.d-e"),
    ("12345", "=312345"),            # all-digit localparts are reserved for guests
])
def test_mapping(subject, expected):
    assert localpart(subject) == expected
    assert subject_from_localpart(expected) == subject


def test_injective_and_valid_on_a_sample():
    mapped = [localpart(s) for s in SAMPLE]
    assert len(set(mapped)) == len(set(SAMPLE))
    for subject, lp in zip(SAMPLE, mapped, strict=True):
        assert set(lp) <= ALLOWED and not lp.startswith("_") and not lp.isdigit()
        assert subject_from_localpart(lp) == subject


def test_matches_synapse_own_mapping():
    types = pytest.importorskip("synapse.types", reason="matrix-synapse is not installed")
    for subject in SAMPLE:
        if not subject.isdigit():
            assert localpart(subject) == types.map_username_to_mxid_localpart(
                subject, case_sensitive=True)


def test_length_bound():
    assert localpart("a" * DEFAULT_MAX_LOCALPART) == "a" * DEFAULT_MAX_LOCALPART
    with pytest.raises(LocalpartError):
        localpart("a" * (DEFAULT_MAX_LOCALPART + 1))
    with pytest.raises(LocalpartError):
        localpart("é" * 34)  # 34 × "=c3=a9" = 204 characters
    with pytest.raises(LocalpartError):
        localpart("")


def test_bound_follows_the_server_name():
    server = "matrix.example.test"
    profile = MatrixProfile({"private_key": ec_pem(), "server_name": server})
    assert len(f"@{'a' * profile.max_localpart}:{server}") == 255
    with pytest.raises(LocalpartError):
        profile.shape(sample_token(subject="a" * (profile.max_localpart + 1)))


def test_claims_for_synapse():
    cred = {"private_key": ec_pem(), "issuer": "https://auth.example.test", "audience": "mx"}
    shaped = MatrixProfile(cred).shape(sample_token(subject="Alice@Corp"))
    claims = pyjwt.decode(sign(shaped), public_pem_of(ec_pem()), algorithms=["ES256"],
                          audience="mx", issuer="https://auth.example.test")
    assert claims["sub"] == "=5falice=40_corp" and claims["name"] == "Alice Liddell"
    assert claims["exp"] - claims["iat"] <= MatrixProfile.max_lifetime


def test_rsa_key_and_algorithm_check():
    profile = MatrixProfile({"private_key": rsa_pem(), "algorithm": "RS256"})
    assert profile.shape(sample_token()).algorithm == "RS256"
    with pytest.raises(PluginConfigError) as error:
        MatrixProfile({"private_key": rsa_pem(), "algorithm": "ES256"})
    assert error.value.key == "algorithm"


def test_public_info_jwt_config_snippet():
    yaml = pytest.importorskip("yaml", reason="PyYAML is not installed")
    profile = MatrixProfile(MatrixProfile.generate_credential() | {
        "issuer": "https://auth.example.test", "audience": "matrix: chat"})
    info = profile.public_info()
    config = yaml.safe_load(info["jwt_config"])["jwt_config"]
    assert config == {
        "enabled": True, "secret": info["public_key"], "algorithm": "ES256",
        "subject_claim": "sub", "display_name_claim": "name",
        "issuer": "https://auth.example.test", "audiences": ["matrix: chat"],
    }
    assert "PRIVATE" not in info["jwt_config"]
