"""Cached upstream documents: OpenID Connect Discovery 1.0 §4 metadata and RFC 7517 §5 JWK Sets.

Freshness follows the response's ``Cache-Control: max-age`` (RFC 9111 §5.2.2.1), clamped
to [:attr:`CachedDocument.MIN_TTL`, :attr:`CachedDocument.MAX_TTL`]. When the upstream is
down or answers garbage, the last good copy stays in use and the next attempt waits a
cool-down, so a broken IdP is neither hammered nor able to wipe the keys we trust. A forced
refresh (an unknown ``kid``, OIDC Core 1.0 §10.1.1 key rotation) happens at most once per
cool-down. One lock per document: concurrent callers share one fetch.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from joserfc.errors import JoseError
from joserfc.jwk import Key, KeySet, import_key

from authserver.plugin_api import HttpResponse, UpstreamUnavailable

T = TypeVar("T")

_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|[,\s])(no-store|no-cache)\b", re.IGNORECASE)
_SIGNING_KEY_TYPES = ("RSA", "EC", "OKP")
#: Private-key members (RFC 7518 §6.2.2, §6.3.2): a verifier never needs them.
_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class CachedDocument(Generic[T]):
    """A JSON document fetched over HTTP, parsed, cached, and kept when the upstream fails."""

    MIN_TTL = 60.0
    MAX_TTL = 24 * 3600.0
    DEFAULT_TTL = 600.0
    #: Minimum time between two fetches forced by :meth:`refresh`, and the wait after a
    #: failed fetch while a good copy is held.
    COOLDOWN = 30.0
    #: Wait after a failed fetch when nothing is cached: short, but bounded load on a dead IdP.
    EMPTY_RETRY = 5.0

    def __init__(self, name: str, fetch: Callable[[], HttpResponse], parse: Callable[[Any], T],
                 clock: Callable[[], float], logger: logging.Logger):
        self._name = name
        self._fetch = fetch
        self._parse = parse
        self._clock = clock
        self._logger = logger
        self._lock = threading.Lock()
        self._value: T | None = None
        self._fresh_until = 0.0
        self._retry_at = 0.0
        self._attempted_at: float | None = None

    def get(self) -> T:
        """The cached value while fresh, else a refetched one, else the last good one."""
        with self._lock:
            now = self._clock()
            if self._value is not None and now < self._fresh_until:
                return self._value
            if now >= self._retry_at:
                self._refresh(now)
            return self._require()

    def refresh(self) -> T:
        """Refetch now unless the last attempt is younger than :attr:`COOLDOWN`."""
        with self._lock:
            now = self._clock()
            if self._attempted_at is None or now - self._attempted_at >= self.COOLDOWN:
                self._refresh(now)
            return self._require()

    def _refresh(self, now: float) -> None:
        self._attempted_at = now
        try:
            response = self._fetch()
            if response.status != 200:
                raise ValueError(f"HTTP status {response.status}")
            value = self._parse(response.json())
        except (UpstreamUnavailable, JoseError, ValueError, TypeError, KeyError) as error:
            self._failed(now, error)
            return
        self._value = value
        self._fresh_until = now + self.ttl(response.headers)
        self._retry_at = 0.0

    def _failed(self, now: float, error: Exception) -> None:
        kept = self._value is not None
        self._retry_at = now + (self.COOLDOWN if kept else self.EMPTY_RETRY)
        self._logger.warning("%s fetch failed (%s: %s); %s", self._name, type(error).__name__,
                             error, "keeping the last good copy" if kept else "nothing cached")

    def _require(self) -> T:
        if self._value is None:
            raise UpstreamUnavailable(f"{self._name} is unavailable and nothing is cached")
        return self._value

    @classmethod
    def ttl(cls, headers: Mapping[str, str]) -> float:
        """Seconds to keep a response, from ``Cache-Control``, clamped."""
        value = next((v for k, v in headers.items() if k.lower() == "cache-control"), "")
        if _NO_CACHE.search(value):
            return cls.MIN_TTL
        match = _MAX_AGE.search(value)
        seconds = float(match.group(1)) if match else cls.DEFAULT_TTL
        return min(max(seconds, cls.MIN_TTL), cls.MAX_TTL)


def parse_jwks(document: Any) -> KeySet:
    """RFC 7517 §5: the usable public signing keys of a JWK Set.

    Keys that fail to import, are symmetric, or are marked for encryption are skipped
    (§5: ignore what is not understood); a set with no usable key is garbage.
    """
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise TypeError("not a JWK Set")
    keys = [key for key in map(_signing_key, document["keys"]) if key is not None]
    if not keys:
        raise ValueError("JWK Set has no usable signing key")
    return KeySet(keys)


def _signing_key(data: Any) -> Key | None:
    if not isinstance(data, dict) or data.get("kty") not in _SIGNING_KEY_TYPES:
        return None
    if data.get("use", "sig") != "sig":
        return None
    try:
        return import_key({k: v for k, v in data.items() if k not in _PRIVATE_MEMBERS})
    except (JoseError, ValueError, TypeError, KeyError):
        return None
