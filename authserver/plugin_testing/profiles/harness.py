"""How the conformance suite drives one token profile (:class:`ProfileHarness`), sample
granted tokens, sample keys, and signing exactly as the core does.

A profile is a pure function of its credential and a granted token, so its harness is
data: a sample credential, the key that verifies the tokens signed with it, and the
credentials that must be refused.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwt
from joserfc.jwk import ECKey

from authserver.plugin_api import GrantedToken, ShapedToken, TokenProfile

#: The algorithm of the realm key the kit signs with when a profile leaves ``key`` None.
REALM_ALGORITHM = "ES256"
_CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1}


@dataclass(frozen=True)
class ProfileHarness:
    """One token profile and its sample data.

    ``verify_key`` returns the key (an HMAC secret, or a public or private PEM) that verifies
    the tokens the profile signs with its credential, in ``algorithm``; both None when the
    profile leaves signing to the realm's key. ``secrets`` are strings (or fragments, see
    :func:`pem_fragments`) of the credential that must never show; ``optional_keys`` are the
    credential keys that may be left out; ``malformed`` lists (change to the sample
    credential, key the refusal must name).
    """

    profile_class: type[TokenProfile]
    credential: Mapping[str, Any] | None = None
    verify_key: Callable[[], Any] | None = None
    algorithm: str | None = None
    secrets: tuple[str, ...] = ()
    optional_keys: frozenset[str] = frozenset()
    malformed: tuple[tuple[Mapping[str, Any], str], ...] = ()

    def profile(self) -> TokenProfile:
        return self.profile_class(dict(self.credential) if self.credential is not None else None)


def sample_token(**overrides: Any) -> GrantedToken:
    """A granted token for an identified user, issued now for ten minutes."""
    now = int(time.time())
    values: dict[str, Any] = {
        "issuer": "https://auth.example.test/realms/default", "subject": "alice",
        "audience": "chat-api", "client_id": "web", "scopes": ("chat:read", "chat:write"),
        "issued_at": now, "expires_at": now + 600, "jti": "jti-0123456789",
        "uid": "u_8f3a2c", "identified": True, "verified": True, "idp": "google",
        "name": "Alice Liddell", "given_name": "Alice", "family_name": "Liddell",
    }
    return GrantedToken(**(values | overrides))


def minimal_token() -> GrantedToken:
    """An anonymous user's token: every optional field absent, the subject is the ``uid``."""
    return sample_token(subject="u_8f3a2c", identified=False, verified=False, idp=None, name=None,
                        given_name=None, family_name=None)


def apply_max_lifetime(token: GrantedToken, profile: type[TokenProfile]) -> GrantedToken:
    """What the core does before shaping: ``exp = min(exp, iat + max_lifetime)``."""
    if profile.max_lifetime is None:
        return token
    exp = min(token.expires_at, token.issued_at + profile.max_lifetime)
    return dataclasses.replace(token, expires_at=exp)


def sign(shaped: ShapedToken, realm_key: ECKey | None = None) -> str:
    """Sign ``shaped`` as the core does: with the realm key (``kid`` added) when ``key`` is
    None, else with ``key`` and ``algorithm``; ``alg`` in the header is the one signed with."""
    header = dict(shaped.header)
    if shaped.key is None:
        key, alg = realm_key or realm_signing_key(), REALM_ALGORITHM
        header["kid"] = key.thumbprint()
    else:
        key, alg = shaped.key, shaped.algorithm
    return jwt.encode({**header, "alg": alg}, dict(shaped.claims), key, algorithms=[alg])


# --- sample keys -----------------------------------------------------------------------


@functools.cache
def realm_signing_key() -> ECKey:
    """The realm key the kit signs with, the same one within a run."""
    return ECKey.generate_key("P-256")


def realm_public_pem() -> str:
    return public_pem_of(realm_signing_key().as_pem(private=True).decode())


@functools.cache
def rsa_pem(bits: int = 2048) -> str:
    """An RSA private key (PKCS #8 PEM), the same one for the same size within a run."""
    return _pem(rsa.generate_private_key(public_exponent=65537, key_size=bits))


@functools.cache
def ec_pem(curve: str = "P-256") -> str:
    """An EC private key (PKCS #8 PEM), the same one for the same curve within a run."""
    return fresh_ec_pem(curve)


def fresh_ec_pem(curve: str = "P-256") -> str:
    return _pem(ec.generate_private_key(_CURVES[curve]()))


def public_pem_of(private_pem: str) -> str:
    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def pem_fragments(pem: str) -> tuple[str, ...]:
    """Lines of a PEM body: enough to detect a leak of any part of the key."""
    return tuple(line for line in pem.splitlines() if line and not line.startswith("-----"))


def _pem(private: Any) -> str:
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
