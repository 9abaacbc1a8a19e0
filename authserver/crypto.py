"""Secrets at rest: AES-256-GCM encryption of key material, keyed hashes of client secrets.

The encryption key is derived (HKDF-SHA256) from the instance ``SECRET_KEY``, which lives in
the instance config, never in the database: a stolen database alone yields no private key and
no usable client secret. ``SECRET_KEY_FALLBACKS`` are older keys that still open what they
sealed, during a rotation of ``SECRET_KEY`` (:mod:`authserver.sealing`).

A key is named by its :func:`key_fingerprint`, a one-way HKDF output: the database records
the fingerprint of the key that seals it, never the key. (It lets no one test a guessed key
faster than the ciphertexts themselves already do.)

The hashing key of :class:`SecretHasher` belongs to the database: derived from the key that
first sealed it and kept there sealed, so a rotation of ``SECRET_KEY`` re-seals it and every
stored hash (client secrets, session tokens) stays valid without its plaintext.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Callable, Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NONCE_BYTES = 12
_FORMAT_V1 = b"\x01"
FINGERPRINT_BYTES = 8


class DecryptionError(Exception):
    """Ciphertext was altered, or was sealed under another SECRET_KEY."""


def derive_key(secret_key: str, purpose: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"authserver/{purpose}/v1".encode())
    return hkdf.derive(secret_key.encode())


def key_fingerprint(secret_key: str) -> str:
    """A short public name for a SECRET_KEY (16 hex digits), from which it cannot be found."""
    return derive_key(secret_key, "fingerprint")[:FINGERPRINT_BYTES].hex()


def hashing_key_for(secret_key: str) -> bytes:
    """The hashing key a database first sealed by ``secret_key`` keeps for good."""
    return derive_key(secret_key, "secret-hashing")


class SecretBox:
    """AES-256-GCM with a random nonce; ``context`` is bound as associated data.

    Seals under ``SECRET_KEY``, or under the key the database names when it names one of
    the fallbacks (see :meth:`seal_under`); opens with ``SECRET_KEY`` or any fallback.
    """

    def __init__(self, secret_key: str, fallbacks: Iterable[str] = ()):
        self.fingerprint = key_fingerprint(secret_key)
        self._aeads: dict[str, AESGCM] = {self.fingerprint: _aead(secret_key)}
        self._choose: Callable[[], str | None] = lambda: None
        self.add_fallbacks(fallbacks)

    @property
    def fingerprints(self) -> list[str]:
        """``SECRET_KEY``'s first, then the fallbacks'."""
        return list(self._aeads)

    def add_fallbacks(self, fallbacks: Iterable[str]) -> None:
        for key in fallbacks:
            self._aeads.setdefault(key_fingerprint(key), _aead(key))

    def seal_under(self, choose: Callable[[], str | None]) -> None:
        """``choose()`` names the fingerprint to seal under (``None``: ``SECRET_KEY``)."""
        self._choose = choose

    def seal(self, plaintext: bytes, context: str, fingerprint: str | None = None) -> bytes:
        fingerprint = fingerprint or self._choose() or self.fingerprint
        aead = self._aeads.get(fingerprint)
        if aead is None:
            raise DecryptionError(f"no key with fingerprint {fingerprint} to seal under")
        nonce = os.urandom(_NONCE_BYTES)
        return _FORMAT_V1 + nonce + aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        return self.open_with(sealed, context)[0]

    def open_with(self, sealed: bytes, context: str) -> tuple[bytes, str]:
        """The plaintext and the fingerprint of the key that opened it."""
        if not sealed.startswith(_FORMAT_V1):
            raise DecryptionError("unknown ciphertext format")
        nonce, body = sealed[1:1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES:]
        for fingerprint, aead in self._aeads.items():
            try:
                return aead.decrypt(nonce, body, context.encode()), fingerprint
            except InvalidTag:
                continue
        raise DecryptionError("ciphertext does not authenticate")


def _aead(secret_key: str) -> AESGCM:
    return AESGCM(derive_key(secret_key, "encryption-at-rest"))


class SecretHasher:
    """HMAC-SHA-256 under a server-side key, for high-entropy secrets (client secrets,
    session tokens, access tokens for registration). With 256-bit random secrets a slow
    password hash adds no safety; the keyed hash makes a leaked database useless alone.

    The key is the database's (:meth:`load_key_with`), read once; until a database has
    one, the key is the one derived from ``SECRET_KEY``.
    """

    def __init__(self, secret_key: str):
        self._derived = hashing_key_for(secret_key)
        self._key: bytes | None = self._derived
        self._loader: Callable[[], bytes | None] = lambda: None

    def load_key_with(self, loader: Callable[[], bytes | None]) -> None:
        """``loader()`` reads the database's hashing key (``None``: it has none yet)."""
        self._loader, self._key = loader, None

    def use_key(self, key: bytes) -> None:
        self._key = key

    def _current_key(self) -> bytes:
        if self._key is not None:
            return self._key
        loaded = self._loader()
        if loaded is None:
            return self._derived
        self._key = loaded
        return loaded

    def hash(self, secret: str) -> str:
        return hmac.new(self._current_key(), secret.encode(), hashlib.sha256).hexdigest()

    def verify(self, secret: str, expected_hash: str | None) -> bool:
        if not expected_hash:
            return False
        return hmac.compare_digest(self.hash(secret), expected_hash)


def new_secret(nbytes: int = 32) -> str:
    """A URL-safe random secret with ``nbytes`` of entropy (default 256 bits)."""
    return secrets.token_urlsafe(nbytes)
