"""Test helpers for token profiles: sample tokens, sample credentials, and signing as the core
does (``joserfc.jwt.encode(header, claims, key, algorithms=[alg])``)."""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwt
from joserfc.jwk import ECKey

from authserver.plugin_api import PROFILE_GROUP, GrantedToken, ShapedToken, TokenProfile

#: Fallback when the distribution is not installed; checked against pyproject.toml.
STATIC_PROFILES = {
    "native": "authserver_plugins.profiles.native:NativeProfile",
    "twilio": "authserver_plugins.profiles.twilio:TwilioProfile",
    "vonage": "authserver_plugins.profiles.vonage:VonageProfile",
    "sunshine": "authserver_plugins.profiles.sunshine:SunshineProfile",
    "stream": "authserver_plugins.profiles.stream:StreamProfile",
    "matrix": "authserver_plugins.profiles.matrix:MatrixProfile",
}

TWILIO_SECRET = "t" * 8 + "0123456789abcdefABCDEF01"
SUNSHINE_SECRET = "BFJJ88naxc5PZNAMU9KpBNTR"  # the 24-character example of the vendor guide
STREAM_SECRET = "s3cr3t-" + "x" * 57


def discover_profiles() -> dict[str, type[TokenProfile]]:
    """Profiles from the entry point group, or the static list when not installed."""
    found = {ep.name: ep.load() for ep in entry_points(group=PROFILE_GROUP)}
    return found or {name: load(target) for name, target in STATIC_PROFILES.items()}


def load(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(import_module(module), attr)


def sample_token(**overrides: Any) -> GrantedToken:
    now = int(time.time())
    values: dict[str, Any] = {
        "issuer": "https://auth.example.test/realms/default", "subject": "alice",
        "audience": "chat-api", "client_id": "web", "scopes": ("chat:read", "chat:write"),
        "issued_at": now, "expires_at": now + 600, "jti": "jti-0123456789",
        "uid": "u_8f3a2c", "identified": True, "verified": True, "idp": "google",
        "name": "Alice Liddell", "given_name": "Alice", "family_name": "Liddell",
    }
    return GrantedToken(**(values | overrides))


def apply_max_lifetime(token: GrantedToken, profile: type[TokenProfile]) -> GrantedToken:
    """What the core does before shaping: ``exp = min(exp, iat + max_lifetime)``."""
    if profile.max_lifetime is None:
        return token
    exp = min(token.expires_at, token.issued_at + profile.max_lifetime)
    return dataclasses.replace(token, expires_at=exp)


def sign(shaped: ShapedToken, realm_key: ECKey | None = None) -> str:
    """Sign ``shaped`` exactly as the core does; the realm key (ES256) when ``key`` is None."""
    header = dict(shaped.header)
    if shaped.key is None:
        key, alg = realm_key or realm_signing_key(), "ES256"
        header.update(alg=alg, kid=key.thumbprint())
    else:
        key, alg = shaped.key, shaped.algorithm
    return jwt.encode(header, dict(shaped.claims), key, algorithms=[alg])


@functools.cache
def realm_signing_key() -> ECKey:
    return ECKey.generate_key("P-256")


@functools.cache
def rsa_pem(bits: int = 2048) -> str:
    return _pem(rsa.generate_private_key(public_exponent=65537, key_size=bits))


@functools.cache
def ec_pem(curve: str = "P-256") -> str:
    curves = {"P-256": ec.SECP256R1(), "P-384": ec.SECP384R1()}
    return _pem(ec.generate_private_key(curves[curve]))


def fresh_ec_pem() -> str:
    return _pem(ec.generate_private_key(ec.SECP256R1()))


def _pem(private: Any, fmt: Any = serialization.PrivateFormat.PKCS8) -> str:
    return private.private_bytes(serialization.Encoding.PEM, fmt,
                                 serialization.NoEncryption()).decode()


def public_pem_of(private_pem: str) -> str:
    private = serialization.load_pem_private_key(private_pem.encode(), password=None)
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@dataclass(frozen=True)
class Case:
    """A profile's sample credential, the key that verifies its tokens, and the secrets
    (or fragments of them) that must never show up anywhere public."""

    credential: dict[str, Any] | None
    verify_key: Callable[[], Any]
    algorithm: str
    secrets: tuple[str, ...] = ()


def pem_fragments(pem: str) -> tuple[str, ...]:
    """Lines of a PEM body: enough to detect a leak of any part of the key."""
    return tuple(line for line in pem.splitlines() if line and not line.startswith("-----"))


def cases() -> dict[str, Case]:
    vonage_pem, matrix_pem = rsa_pem(), ec_pem()
    return {
        "native": Case(None, lambda: public_pem_of(_realm_pem()), "ES256"),
        "twilio": Case(twilio_credential(), lambda: TWILIO_SECRET, "HS256", (TWILIO_SECRET,)),
        "vonage": Case({"application_id": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
                        "private_key": vonage_pem},
                       lambda: public_pem_of(vonage_pem), "RS256", pem_fragments(vonage_pem)),
        "sunshine": Case({"key_id": "app_5deaa3531c7f940010cc4ba4", "secret": SUNSHINE_SECRET},
                         lambda: SUNSHINE_SECRET, "HS256", (SUNSHINE_SECRET,)),
        "stream": Case({"api_key": "mmhfdzb5evj2", "api_secret": STREAM_SECRET},
                       lambda: STREAM_SECRET, "HS256", (STREAM_SECRET,)),
        "matrix": Case({"private_key": matrix_pem, "issuer": "https://auth.example.test",
                        "audience": "matrix", "server_name": "matrix.example.test"},
                       lambda: public_pem_of(matrix_pem), "ES256", pem_fragments(matrix_pem)),
    }


def twilio_credential() -> dict[str, Any]:
    return {
        "account_sid": "AC" + "0123456789abcdef" * 2,
        "api_key_sid": "SK" + "fedcba9876543210" * 2,
        "api_key_secret": TWILIO_SECRET,
        "chat_service_sid": "IS" + "00112233445566778899aabbccddeeff",
        "push_credential_sid": "CR" + "ffeeddccbbaa99887766554433221100",
    }


def _realm_pem() -> str:
    return realm_signing_key().as_pem(private=True).decode()
