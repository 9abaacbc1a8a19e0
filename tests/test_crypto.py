"""Secrets at rest (authserver/crypto.py): fingerprints, fallback keys, the database's hashing key."""

from __future__ import annotations

import pytest

from authserver.crypto import DecryptionError, SecretBox, SecretHasher, hashing_key_for, key_fingerprint

OLD, NEW = "o" * 40, "n" * 40


def test_the_fingerprint_is_stable_short_and_not_the_key():
    # Databases record it: a change here would make every host refuse its database.
    assert key_fingerprint("x" * 40) == "d28cd8b97e0aad28"
    assert key_fingerprint(OLD) != key_fingerprint(NEW) and OLD not in key_fingerprint(OLD)


def test_fallbacks_open_what_they_sealed_and_new_values_use_the_chosen_key():
    sealed_old = SecretBox(OLD).seal(b"pem", "signing-key:k")
    box = SecretBox(NEW, fallbacks=[OLD])
    assert box.fingerprints == [key_fingerprint(NEW), key_fingerprint(OLD)]
    assert box.open_with(sealed_old, "signing-key:k") == (b"pem", key_fingerprint(OLD))
    assert SecretBox(NEW).open(box.seal(b"x", "c"), "c") == b"x"  # SECRET_KEY by default
    box.seal_under(lambda: key_fingerprint(OLD))  # the database names the old key
    assert SecretBox(OLD).open(box.seal(b"y", "c"), "c") == b"y"
    with pytest.raises(DecryptionError):
        SecretBox(NEW).open(sealed_old, "signing-key:k")
    with pytest.raises(DecryptionError):
        box.open(sealed_old, "signing-key:other")  # the context is bound


def test_the_hasher_uses_the_databases_key_once_it_has_one():
    hasher = SecretHasher(NEW)
    assert hasher.hash("s") == SecretHasher(NEW).hash("s")  # no database key yet: SECRET_KEY's
    loads = []
    hasher.load_key_with(lambda: loads.append(1) or hashing_key_for(OLD))
    assert hasher.hash("s") == SecretHasher(OLD).hash("s") and hasher.verify("s", SecretHasher(OLD).hash("s"))
    hasher.hash("t")
    assert loads == [1]  # read once
