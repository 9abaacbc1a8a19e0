"""Shared pieces of the first-party token profiles.

Credential checks that raise :class:`~authserver.plugin_api.PluginConfigError` naming the
bad key (never its value), PEM loading, joserfc key construction, lifetime capping and
redaction, so each vendor module only states what its vendor expects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import ECKey, OctKey, RSAKey

from authserver.plugin_api import GrantedToken, PluginConfigError, TokenProfile

#: Smallest RSA modulus accepted for RS256 vendor keys.
MIN_RSA_BITS = 2048

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class Credential(dict):
    """A normalized credential: a plain JSON-able dict whose repr never shows values."""

    def __repr__(self) -> str:
        return f"Credential(keys={sorted(self)}, values=<redacted>)"

    __str__ = __repr__


class VendorProfile(TokenProfile):
    """Base of the profiles that sign with a vendor credential stored on the chat backend."""

    requires_credential = True

    def __repr__(self) -> str:
        return f"<{type(self).__name__} credential=<redacted>>"

    __str__ = __repr__

    def expiry(self, token: GrantedToken) -> int:
        """``exp`` for ``token``, capped at :attr:`max_lifetime` (defence in depth)."""
        return capped_expiry(token, self.max_lifetime)


def capped_expiry(token: GrantedToken, max_lifetime: int | None) -> int:
    """``min(exp, iat + max_lifetime)``: the rule the core applies before shaping."""
    if max_lifetime is None:
        return token.expires_at
    return min(token.expires_at, token.issued_at + max_lifetime)


def drop_none(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


def plain(value: Any) -> Any:
    """JSON-ready copy: mappings to dicts, tuples to lists (granted values may be frozen)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


# --- credential checks ----------------------------------------------------------------


def require_mapping(credential: Any, allowed: Iterable[str]) -> Mapping[str, Any]:
    """``credential`` must be a mapping holding only ``allowed`` keys (typos are refused)."""
    if not isinstance(credential, Mapping):
        raise PluginConfigError("credential", "must be a mapping of settings")
    for key in credential:
        if key not in allowed:
            raise PluginConfigError(str(key), "unknown setting for this profile")
    return credential


def require_str(credential: Mapping[str, Any], key: str, *,
                pattern: str | None = None, hint: str = "") -> str:
    value = credential.get(key)
    if value is None or value == "":
        raise PluginConfigError(key, "is required")
    return _check_str(key, value, pattern, hint)


def optional_str(credential: Mapping[str, Any], key: str, *,
                 pattern: str | None = None, hint: str = "") -> str | None:
    value = credential.get(key)
    if value is None:
        return None
    return _check_str(key, value, pattern, hint)


def _check_str(key: str, value: Any, pattern: str | None, hint: str) -> str:
    if not isinstance(value, str):
        raise PluginConfigError(key, "must be a string")
    if value != value.strip() or not value:
        raise PluginConfigError(key, "must not be empty or carry surrounding whitespace")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise PluginConfigError(key, f"is malformed{': ' + hint if hint else ''}")
    return value


def require_secret(credential: Mapping[str, Any], key: str, *, min_length: int) -> str:
    """An HMAC shared secret: a string of at least ``min_length`` visible characters."""
    value = require_str(credential, key)
    if len(value) < min_length:
        raise PluginConfigError(key, f"is too short (at least {min_length} characters)")
    if any(c.isspace() for c in value):
        raise PluginConfigError(key, "must not contain whitespace")
    return value


def require_choice(credential: Mapping[str, Any], key: str, choices: tuple[str, ...],
                   default: str) -> str:
    value = credential.get(key, default)
    if value not in choices:
        raise PluginConfigError(key, f"must be one of {', '.join(choices)}")
    return value


# --- keys -----------------------------------------------------------------------------


def load_private_pem(credential: Mapping[str, Any], key: str,
                     kinds: tuple[str, ...] = ("RSA", "EC")) -> PrivateKey:
    """Load an unencrypted PEM private key of one of ``kinds`` (RSA ≥ 2048, EC P-256)."""
    text = credential.get(key)
    if not isinstance(text, str) or not text.strip():
        raise PluginConfigError(key, "is required (a PEM private key)")
    try:
        private = serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError):  # never chain: the parser's message may quote input
        raise PluginConfigError(key, "is not an unencrypted PEM private key") from None
    _check_kind(key, private, kinds)
    return private


def _check_kind(key: str, private: Any, kinds: tuple[str, ...]) -> None:
    if isinstance(private, rsa.RSAPrivateKey) and "RSA" in kinds:
        if private.key_size < MIN_RSA_BITS:
            raise PluginConfigError(key, f"RSA key is shorter than {MIN_RSA_BITS} bits")
        return
    if isinstance(private, ec.EllipticCurvePrivateKey) and "EC" in kinds:
        if not isinstance(private.curve, ec.SECP256R1):
            raise PluginConfigError(key, "EC key must be on curve P-256")
        return
    raise PluginConfigError(key, f"wrong key type (expected {' or '.join(kinds)})")


def algorithm_for(private: PrivateKey) -> str:
    return "RS256" if isinstance(private, rsa.RSAPrivateKey) else "ES256"


def private_pem(private: PrivateKey) -> str:
    """Normalized PKCS#8 PEM text of ``private``."""
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()


def public_pem(private: PrivateKey) -> str:
    return private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def signing_key(pem: str) -> RSAKey | ECKey:
    """The joserfc key for a validated PEM private key."""
    private = serialization.load_pem_private_key(pem.encode(), password=None)
    if isinstance(private, rsa.RSAPrivateKey):
        return RSAKey.import_key(pem)
    return ECKey.import_key(pem)


def hmac_key(secret: str) -> OctKey:
    """The joserfc key for an HS256 secret, as its UTF-8 bytes (what vendor SDKs use)."""
    return OctKey.import_key(secret.encode("utf-8"))
