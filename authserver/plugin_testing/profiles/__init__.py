"""Token profile conformance kit: the suite every token profile passes (STYLE §8), its
harness, sample granted tokens and keys, signing as the core does, and an independent
JWS verifier.

A third-party profile proves itself with one test class in its own test suite (pytest is
needed for the suite; the rest imports without it)::

    # tests/test_conformance.py
    from authserver.plugin_testing.profiles import (
        ProfileConformance, ProfileHarness, pem_fragments, public_pem_of, rsa_pem)

    from acme_profile import AcmeProfile

    PEM = rsa_pem()


    class TestAcmeProfile(ProfileConformance):
        harness = ProfileHarness(
            AcmeProfile,
            credential={"app_id": "app-1", "private_key": PEM},
            verify_key=lambda: public_pem_of(PEM), algorithm="RS256",
            secrets=pem_fragments(PEM),
            malformed=(({"app_id": ""}, "app_id"), ({"private_key": "junk"}, "private_key")),
        )

A profile that leaves signing to the realm's key needs only ``ProfileHarness(AcmeProfile)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .harness import (
    REALM_ALGORITHM,
    ProfileHarness,
    apply_max_lifetime,
    ec_pem,
    fresh_ec_pem,
    minimal_token,
    pem_fragments,
    public_pem_of,
    realm_public_pem,
    realm_signing_key,
    rsa_pem,
    sample_token,
    sign,
)
from .verify import SignatureMismatch, verify_jws, wrong_key

if TYPE_CHECKING:
    from .suite import ProfileConformance

__all__ = [
    "REALM_ALGORITHM", "ProfileConformance", "ProfileHarness", "SignatureMismatch", "apply_max_lifetime",
    "ec_pem", "fresh_ec_pem", "minimal_token", "pem_fragments", "public_pem_of", "realm_public_pem",
    "realm_signing_key", "rsa_pem", "sample_token", "sign", "verify_jws", "wrong_key",
]


def __getattr__(name: str) -> Any:
    """The suite imports pytest, so it loads on first use only."""
    if name == "ProfileConformance":
        from authserver.plugin_testing import _load_suite

        return _load_suite(__name__ + ".suite").ProfileConformance
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
