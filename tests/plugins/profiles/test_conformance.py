"""Profile conformance: every token profile, first-party or not, passes these checks.

Each profile builds a token for a sample granted token that verifies with the right key (and
not with a wrong one), refuses a missing or malformed credential at validation with a
``PluginConfigError`` naming the key, never shows its credential in ``repr``/``str``/
``public_info``/errors, and respects ``max_lifetime``.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jwt as pyjwt
import pytest

from authserver.plugin_api import PluginConfigError, TokenProfile

from .helpers import (
    STATIC_PROFILES,
    Case,
    apply_max_lifetime,
    discover_profiles,
    ec_pem,
    fresh_ec_pem,
    public_pem_of,
    rsa_pem,
    sample_token,
    sign,
)

# Sunshine's documented secrets are 24 bytes; PyJWT (our independent verifier) warns on them.
pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key is .* bytes long")

PROFILES = discover_profiles()
VENDOR = [name for name, cls in PROFILES.items() if cls.requires_credential]
REPO = Path(__file__).resolve().parents[3]

#: (profile, mutation of the sample credential, key the error must name)
MALFORMED: list[tuple[str, dict[str, Any], str]] = [
    ("twilio", {"account_sid": "SK" + "0" * 32}, "account_sid"),
    ("twilio", {"account_sid": "AC123"}, "account_sid"),
    ("twilio", {"api_key_sid": "AC" + "0" * 32}, "api_key_sid"),
    ("twilio", {"api_key_secret": "short-secret"}, "api_key_secret"),
    ("twilio", {"chat_service_sid": "IS" + "z" * 32}, "chat_service_sid"),
    ("twilio", {"push_credential_sid": "CRxyz"}, "push_credential_sid"),
    ("twilio", {"api_secret": "x" * 40}, "api_secret"),
    ("vonage", {"application_id": "my-app"}, "application_id"),
    ("vonage", {"private_key": "-----BEGIN PRIVATE KEY-----\nnot a key\n"}, "private_key"),
    ("vonage", {"private_key": ec_pem()}, "private_key"),
    ("vonage", {"private_key": rsa_pem(1024)}, "private_key"),
    ("vonage", {"private_key": 42}, "private_key"),
    ("sunshine", {"secret": "too-short"}, "secret"),
    ("sunshine", {"secret": "has whitespace in the middle of it"}, "secret"),
    ("sunshine", {"key_id": "bad id!"}, "key_id"),
    ("sunshine", {"form": "jwt"}, "form"),
    ("stream", {"api_secret": "x" * 10}, "api_secret"),
    ("stream", {"api_key": "not valid"}, "api_key"),
    ("matrix", {"private_key": "garbage"}, "private_key"),
    ("matrix", {"private_key": ec_pem("P-384")}, "private_key"),
    ("matrix", {"algorithm": "RS256"}, "algorithm"),
    ("matrix", {"issuer": ""}, "issuer"),
    ("matrix", {"server_name": "bad/name"}, "server_name"),
]


def _case(name: str, profile_cases: dict[str, Case]) -> Case:
    if name not in profile_cases:
        pytest.skip(f"no sample credential for third-party profile {name!r}")
    return profile_cases[name]


def _make(name: str, profile_cases: dict[str, Case]) -> TokenProfile:
    return PROFILES[name](_case(name, profile_cases).credential)


def _verify(token: str, case: Case, key: Any = None) -> dict[str, Any]:
    """Verify with PyJWT, an implementation independent from the one that signed."""
    return pyjwt.decode(token, key or case.verify_key(), algorithms=[case.algorithm],
                        options={"verify_aud": False})


def test_static_list_matches_pyproject_entry_points():
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert declared["project"]["entry-points"]["authserver.token_profiles"] == STATIC_PROFILES


@pytest.mark.parametrize("name", PROFILES)
def test_is_a_token_profile(name):
    cls = PROFILES[name]
    assert issubclass(cls, TokenProfile) and cls.name == name


@pytest.mark.parametrize("name", PROFILES)
def test_builds_a_token_that_verifies_with_the_right_key(name, profile_cases):
    case, token = _case(name, profile_cases), sample_token()
    shaped = _make(name, profile_cases).shape(token)
    json.dumps(dict(shaped.claims))  # claims are plain JSON
    if shaped.key is not None:
        assert shaped.header["alg"] == shaped.algorithm == case.algorithm
    claims = _verify(sign(shaped), case)
    assert claims == dict(shaped.claims)
    assert claims["exp"] <= token.expires_at and claims["iat"] == token.issued_at


@pytest.mark.parametrize("name", PROFILES)
def test_does_not_verify_with_a_wrong_key(name, profile_cases):
    case = _case(name, profile_cases)
    signed = sign(_make(name, profile_cases).shape(sample_token()))
    wrong = {"HS256": "another-secret-" + "y" * 40, "RS256": public_pem_of(rsa_pem(3072)),
             "ES256": public_pem_of(fresh_ec_pem())}
    with pytest.raises(pyjwt.InvalidSignatureError):
        _verify(signed, case, wrong[case.algorithm])


@pytest.mark.parametrize("name", VENDOR)
def test_requires_a_credential(name):
    assert PROFILES[name].requires_credential
    with pytest.raises(PluginConfigError) as error:
        PROFILES[name](None)
    assert error.value.key == "credential"


@pytest.mark.parametrize("name", VENDOR)
def test_each_missing_required_key_is_named(name, profile_cases):
    credential = _case(name, profile_cases).credential
    optional = {"push_credential_sid", "api_key", "form", "issuer", "audience", "server_name",
                "algorithm"}
    for key in set(credential) - optional:
        with pytest.raises(PluginConfigError) as error:
            PROFILES[name].validate_credential({k: v for k, v in credential.items() if k != key})
        assert error.value.key == key


@pytest.mark.parametrize(("name", "change", "key"), MALFORMED,
                         ids=[f"{n}-{k}-{i}" for i, (n, _, k) in enumerate(MALFORMED)])
def test_malformed_credential_is_refused_naming_the_key(name, change, key, profile_cases):
    case = _case(name, profile_cases)
    with pytest.raises(PluginConfigError) as error:
        PROFILES[name].validate_credential(case.credential | change)
    assert error.value.key == key
    text = f"{error.value!s} {error.value!r} {error.value.__cause__!r}"
    for value in (*case.secrets, *[str(v) for v in change.values() if len(str(v)) > 8]):
        assert value not in text


@pytest.mark.parametrize("name", VENDOR)
def test_credential_never_leaks(name, profile_cases):
    case = _case(name, profile_cases)
    profile = _make(name, profile_cases)
    shaped = profile.shape(sample_token())
    public = json.dumps(profile.public_info())
    shown = [repr(profile), str(profile), public, repr(profile.credential), str(shaped),
             f"{profile.credential}", json.dumps(dict(shaped.claims)), json.dumps(shaped.header)]
    for secret in case.secrets:
        assert all(secret not in text for text in shown), secret


@pytest.mark.parametrize("name", VENDOR)
def test_normalized_credential_is_accepted_again(name, profile_cases):
    cls = PROFILES[name]
    normalized = cls.validate_credential(_case(name, profile_cases).credential)
    assert cls.validate_credential(json.loads(json.dumps(normalized))) == normalized


@pytest.mark.parametrize("name", PROFILES)
def test_lifetime_is_capped_by_max_lifetime(name, profile_cases):
    cls, profile = PROFILES[name], _make(name, profile_cases)
    long = sample_token(expires_at=sample_token().issued_at + 48 * 3600)
    capped = apply_max_lifetime(long, cls)
    assert profile.shape(capped).claims["exp"] == capped.expires_at
    if cls.max_lifetime is not None:  # the profile caps too, should the core forget
        claims = profile.shape(long).claims
        assert claims["exp"] - claims["iat"] <= cls.max_lifetime


@pytest.mark.parametrize("name", PROFILES)
def test_generated_credential_is_none_or_valid(name):
    cls = PROFILES[name]
    generated = cls.generate_credential()
    if generated is not None:
        assert cls(cls.validate_credential(generated)).shape(sample_token()).key is not None
