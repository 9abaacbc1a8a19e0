"""RFC 7515 §7.1 compact JWS, signed with a key kept in memory: the realm keys' signer.

Each signer holds the key's ``cryptography`` object (taken once from the joserfc key that
:mod:`authserver.keys.jose` loaded) and encodes each distinct header once; a token then costs
one JSON encoding of its claims and one signature. The output is what joserfc produces for
the same header and claims (RFC 7518 §3.4: an ES256 signature is ``R || S``, 32 bytes each),
and is verified by joserfc in the tests. Only signing lives here: every token we read is
verified by joserfc.
"""

from __future__ import annotations

import base64
import json
import threading
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
_MAX_HEADERS = 64


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class CompactSigner:
    """Signs compact JWS with one private key under one algorithm (``ES256``, ``RS256``, ``EdDSA``)."""

    def __init__(self, alg: str, key: Any):
        self.alg = alg
        self.key = key  # the joserfc key it was built from (identifies it)
        private = key.private_key
        if alg == "ES256":
            self._sign = lambda data: _es256(private.sign(data, _ECDSA_SHA256))
        elif alg == "RS256":
            self._sign = lambda data: private.sign(data, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "EdDSA":
            self._sign = private.sign
        else:
            raise ValueError(f"unsupported signing algorithm {alg!r}")
        self._headers: dict[tuple, bytes] = {}

    def sign(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        """``header`` (``alg`` is set here) and ``claims`` as a compact JWS."""
        signing_input = self._header_segment(header) + b"." + _b64(_json(claims))
        return (signing_input + b"." + _b64(self._sign(signing_input))).decode("ascii")

    def _header_segment(self, header: dict[str, Any]) -> bytes:
        try:
            key = tuple(header.items())
            segment = self._headers.get(key)
        except TypeError:  # an unhashable member: encode it every time
            return _b64(_json({**header, "alg": self.alg}))
        if segment is None:
            segment = _b64(_json({**header, "alg": self.alg}))
            if len(self._headers) < _MAX_HEADERS:
                self._headers[key] = segment
        return segment


def _es256(der: bytes) -> bytes:
    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


class Signers:
    """One :class:`CompactSigner` per signing key in use, built at its first token."""

    def __init__(self):
        self._by_kid: dict[str, CompactSigner] = {}
        self._lock = threading.Lock()

    def for_key(self, kid: str, alg: str, key: Any) -> CompactSigner:
        signer = self._by_kid.get(kid)
        if signer is None or signer.key is not key or signer.alg != alg:
            signer = CompactSigner(alg, key)
            with self._lock:
                if len(self._by_kid) >= _MAX_HEADERS:
                    self._by_kid.clear()
                self._by_kid[kid] = signer
        return signer
