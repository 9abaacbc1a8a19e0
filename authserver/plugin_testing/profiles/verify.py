"""RFC 7515 compact JWS verification, independent of joserfc (which signs): the profile suite
checks the tokens it signed with a second implementation, built on ``cryptography`` alone,
the way a chat backend's own library would read them (RFC 7518 §3 algorithms).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from .harness import fresh_ec_pem, public_pem_of, rsa_pem

_HASHES = {"256": hashes.SHA256, "384": hashes.SHA384, "512": hashes.SHA512}


class SignatureMismatch(Exception):
    """The token does not verify with this key and algorithm."""


def verify_jws(token: str, key: Any, algorithm: str) -> dict[str, Any]:
    """The payload of ``token`` once its signature verifies with ``key`` (an HMAC secret, or a
    PEM) under ``algorithm``, which the header must name; raises :class:`SignatureMismatch`."""
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(_b64decode(header_b64))
    if header.get("alg") != algorithm:
        raise SignatureMismatch(f"header alg {header.get('alg')!r} is not {algorithm}")
    signing_input = f"{header_b64}.{payload_b64}".encode()
    try:
        _verify(algorithm, key, signing_input, _b64decode(signature_b64))
    except InvalidSignature:
        raise SignatureMismatch(f"{algorithm} signature does not verify") from None
    return json.loads(_b64decode(payload_b64))


def wrong_key(algorithm: str) -> Any:
    """A key of the right kind for ``algorithm`` that verifies nothing the profile signed."""
    family = algorithm[:2]
    if family == "HS":
        return "another-secret-" + "y" * 50
    if family in ("RS", "PS"):
        return public_pem_of(rsa_pem(3072))
    if family == "ES":
        return public_pem_of(fresh_ec_pem({"256": "P-256", "384": "P-384", "512": "P-521"}[algorithm[2:]]))
    if algorithm == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
        return private.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    raise ValueError(f"unsupported algorithm {algorithm!r}")


def _verify(algorithm: str, key: Any, message: bytes, signature: bytes) -> None:
    family, bits = algorithm[:2], algorithm[2:]
    if family == "HS":
        secret = key.encode() if isinstance(key, str) else bytes(key)
        expected = hmac.new(secret, message, getattr(hashlib, f"sha{bits}")).digest()
        if not hmac.compare_digest(expected, signature):
            raise InvalidSignature
        return
    public = _public_key(key)
    if algorithm == "EdDSA" and isinstance(public, ed25519.Ed25519PublicKey):
        public.verify(signature, message)
    elif family == "RS" and isinstance(public, rsa.RSAPublicKey):
        public.verify(signature, message, padding.PKCS1v15(), _HASHES[bits]())
    elif family == "PS" and isinstance(public, rsa.RSAPublicKey):
        pss = padding.PSS(mgf=padding.MGF1(_HASHES[bits]()), salt_length=_HASHES[bits].digest_size)
        public.verify(signature, message, pss, _HASHES[bits]())
    elif family == "ES" and isinstance(public, ec.EllipticCurvePublicKey):
        size = (public.curve.key_size + 7) // 8  # RFC 7518 §3.4: R || S, fixed width
        if len(signature) != 2 * size:
            raise InvalidSignature
        r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
        public.verify(encode_dss_signature(r, s), message, ec.ECDSA(_HASHES[bits]()))
    else:
        raise InvalidSignature


def _public_key(pem: Any) -> Any:
    raw = pem.encode() if isinstance(pem, str) else bytes(pem)
    if b"PRIVATE KEY" in raw:
        return serialization.load_pem_private_key(raw, password=None).public_key()
    return serialization.load_pem_public_key(raw)


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
