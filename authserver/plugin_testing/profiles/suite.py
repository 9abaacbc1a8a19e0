"""The conformance suite every token profile passes, first-party or not (needs pytest).

Subclass :class:`ProfileConformance` in a test module and give it a harness::

    class TestAcmeProfile(ProfileConformance):
        harness = ProfileHarness(AcmeProfile, credential=..., verify_key=lambda: ..., algorithm="RS256")

Each profile builds a token for a sample granted token that verifies with the right key (and
not with a wrong one), also for an anonymous user; refuses a missing or malformed credential
with a ``PluginConfigError`` naming the key; never shows its credential in ``repr``/``str``/
``public_info``/errors; accepts its own normalized credential back from JSON storage; and
respects ``max_lifetime``.
"""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from typing import Any, ClassVar

import pytest

from authserver.plugin_api import PROFILE_GROUP, GrantedToken, PluginConfigError, ShapedToken, TokenProfile

from .harness import (
    REALM_ALGORITHM,
    ProfileHarness,
    apply_max_lifetime,
    minimal_token,
    realm_public_pem,
    sample_token,
    sign,
)
from .verify import SignatureMismatch, verify_jws, wrong_key


class ProfileConformance:
    """The suite; a subclass named ``Test…`` sets :attr:`harness`."""

    harness: ClassVar[ProfileHarness]

    # --- helpers -----------------------------------------------------------------------

    def shaped(self, token: GrantedToken | None = None) -> ShapedToken:
        return self.harness.profile().shape(token or sample_token())

    def verify(self, shaped: ShapedToken, key: Any = None) -> dict[str, Any]:
        """Sign ``shaped`` as the core does and verify it independently."""
        if shaped.key is None:
            return verify_jws(sign(shaped), key or realm_public_pem(), REALM_ALGORITHM)
        assert self.harness.verify_key is not None, "the harness gives the key that verifies"
        return verify_jws(sign(shaped), key or self.harness.verify_key(), shaped.algorithm or "")

    def vendor(self) -> type[TokenProfile]:
        cls = self.harness.profile_class
        if not cls.requires_credential:
            pytest.skip(f"{cls.name} needs no credential")
        return cls

    # --- declarations ------------------------------------------------------------------

    def test_declares_itself(self) -> None:
        cls = self.harness.profile_class
        assert issubclass(cls, TokenProfile)
        assert isinstance(cls.name, str) and cls.name
        assert isinstance(cls.issued_token_type, str) and cls.issued_token_type
        assert cls.max_lifetime is None or (type(cls.max_lifetime) is int and cls.max_lifetime > 0)
        assert (self.harness.credential is not None) == cls.requires_credential, \
            "a harness gives a sample credential exactly when the profile requires one"

    def test_entry_point_loads_this_class(self) -> None:
        cls = self.harness.profile_class
        installed = {ep.name: ep for ep in entry_points(group=PROFILE_GROUP)}
        if cls.name not in installed:
            pytest.skip(f"no {PROFILE_GROUP!r} entry point named {cls.name!r} installed")
        assert installed[cls.name].load() is cls

    # --- tokens ------------------------------------------------------------------------

    def test_builds_a_token_that_verifies_with_the_right_key(self) -> None:
        token = sample_token()
        shaped = self.shaped(token)
        json.dumps(dict(shaped.claims))  # claims and header are plain JSON
        json.dumps(dict(shaped.header))
        if shaped.key is None:
            assert self.harness.algorithm is None, "the profile signs with the realm key"
        else:
            assert shaped.algorithm == self.harness.algorithm, "the vendor key's algorithm"
            assert shaped.header.get("alg", shaped.algorithm) == shaped.algorithm
        claims = self.verify(shaped)
        assert claims == dict(shaped.claims)
        assert claims["exp"] <= token.expires_at and claims["iat"] == token.issued_at

    def test_does_not_verify_with_a_wrong_key(self) -> None:
        shaped = self.shaped()
        with pytest.raises(SignatureMismatch):
            self.verify(shaped, wrong_key(shaped.algorithm or REALM_ALGORITHM))

    def test_shapes_an_anonymous_users_token(self) -> None:
        token = minimal_token()
        claims = self.verify(self.shaped(token))
        assert claims["exp"] <= token.expires_at

    def test_lifetime_is_capped_by_max_lifetime(self) -> None:
        cls, profile = self.harness.profile_class, self.harness.profile()
        long = sample_token(expires_at=sample_token().issued_at + 48 * 3600)
        capped = apply_max_lifetime(long, cls)
        assert profile.shape(capped).claims["exp"] == capped.expires_at
        if cls.max_lifetime is not None:  # the profile caps too, should the core forget
            claims = profile.shape(long).claims
            assert claims["exp"] - claims["iat"] <= cls.max_lifetime

    # --- credentials -------------------------------------------------------------------

    def test_requires_a_credential(self) -> None:
        cls = self.vendor()
        with pytest.raises(PluginConfigError) as error:
            cls(None)
        assert error.value.key == "credential"

    def test_each_missing_required_key_is_named(self) -> None:
        cls, credential = self.vendor(), dict(self.harness.credential or {})
        for key in set(credential) - self.harness.optional_keys:
            with pytest.raises(PluginConfigError) as error:
                cls.validate_credential({k: v for k, v in credential.items() if k != key})
            assert error.value.key == key, f"without {key!r}"

    def test_malformed_credential_is_refused_naming_the_key(self) -> None:
        cls, credential = self.vendor(), dict(self.harness.credential or {})
        assert self.harness.malformed, "a harness lists the credentials its profile refuses"
        for change, key in self.harness.malformed:
            with pytest.raises(PluginConfigError) as error:
                cls.validate_credential(credential | dict(change))
            assert error.value.key == key, change
            text = f"{error.value!s} {error.value!r} {error.value.__cause__!r}"
            for value in (*self.harness.secrets, *[str(v) for v in change.values() if len(str(v)) > 8]):
                assert value not in text, f"the refusal of {key!r} shows a secret"

    def test_credential_never_leaks(self) -> None:
        self.vendor()
        profile = self.harness.profile()
        shaped = profile.shape(sample_token())
        shown = [repr(profile), str(profile), json.dumps(profile.public_info()), repr(profile.credential),
                 str(shaped), f"{profile.credential}", json.dumps(dict(shaped.claims)),
                 json.dumps(dict(shaped.header))]
        for secret in self.harness.secrets:
            assert all(secret not in text for text in shown), secret

    def test_normalized_credential_is_accepted_again(self) -> None:
        cls = self.vendor()
        normalized = cls.validate_credential(dict(self.harness.credential or {}))
        assert cls.validate_credential(json.loads(json.dumps(normalized))) == normalized

    def test_generated_credential_is_none_or_valid(self) -> None:
        cls = self.harness.profile_class
        generated = cls.generate_credential()
        if generated is not None:
            assert cls(cls.validate_credential(generated)).shape(sample_token()).key is not None
