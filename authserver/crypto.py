"""Secrets at rest: AES-256-GCM encryption of key material, keyed hashes of client secrets.

Both keys are derived (HKDF-SHA256) from the instance ``SECRET_KEY``, which lives in the
instance config, never in the database: a stolen database alone yields no private key and
no usable client secret.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12
_FORMAT_V1 = b"\x01"


class DecryptionError(Exception):
    """Ciphertext was altered, or was sealed under another SECRET_KEY."""


def derive_key(secret_key: str, purpose: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"authserver/{purpose}/v1".encode())
    return hkdf.derive(secret_key.encode())


class SecretBox:
    """AES-256-GCM with a random nonce; ``context`` is bound as associated data."""

    def __init__(self, secret_key: str):
        self._aead = AESGCM(derive_key(secret_key, "encryption-at-rest"))

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return _FORMAT_V1 + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        if not sealed.startswith(_FORMAT_V1):
            raise DecryptionError("unknown ciphertext format")
        nonce, body = sealed[1:1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES:]
        try:
            return self._aead.decrypt(nonce, body, context.encode())
        except InvalidTag as exc:
            raise DecryptionError("ciphertext does not authenticate") from exc


class SecretHasher:
    """HMAC-SHA-256 under a server-side key, for high-entropy secrets (client secrets,
    session tokens, access tokens for registration). With 256-bit random secrets a slow
    password hash adds no safety; the keyed hash makes a leaked database useless alone."""

    def __init__(self, secret_key: str):
        self._key = derive_key(secret_key, "secret-hashing")

    def hash(self, secret: str) -> str:
        return hmac.new(self._key, secret.encode(), hashlib.sha256).hexdigest()

    def verify(self, secret: str, expected_hash: str | None) -> bool:
        if not expected_hash:
            return False
        return hmac.compare_digest(self.hash(secret), expected_hash)


def new_secret(nbytes: int = 32) -> str:
    """A URL-safe random secret with ``nbytes`` of entropy (default 256 bits)."""
    return secrets.token_urlsafe(nbytes)
