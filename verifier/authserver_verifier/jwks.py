"""RFC 7517 JSON Web Key Set of the issuer, cached by ``kid``.

Cache rules:

* the set is fetched on first use and again when it is older than its freshness lifetime,
  taken from the response's ``Cache-Control: max-age`` (``no-cache``/``no-store`` count as 0)
  and bounded to ``[min_ttl, max_ttl]``; without a header, ``default_ttl``;
* a token whose ``kid`` is not in the set triggers one refetch -- the issuer may have
  rotated keys -- but at most once per ``cooldown`` seconds since the last fetch, so a
  stream of forged ``kid`` values cannot make the verifier hammer the issuer;
* when a refetch fails (or yields no usable key) the last good set is kept, and the
  next attempt waits ``cooldown`` seconds -- also before the very first set is had;
* keys whose ``use`` is not ``sig`` and key types joserfc does not know are ignored;
* one lock serialises fetches, so concurrent requests cause one fetch, not a stampede;
  while one thread refreshes a stale set, the others keep using the keys they know.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key

from .errors import TokenError, UpstreamError

__all__ = ["KeyCache", "freshness"]

log = logging.getLogger(__name__)
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
_NO_CACHE = re.compile(r"(?:^|,)\s*(no-cache|no-store)\s*(?:,|$)", re.IGNORECASE)

Fetch = Callable[[], tuple[dict[str, Any], str | None]]


def freshness(cache_control: str | None, default: float, lower: float, upper: float) -> float:
    """Seconds a JWKS response may be reused, from its Cache-Control header, bounded."""
    seconds = default
    if cache_control and _NO_CACHE.search(cache_control):
        seconds = 0
    elif cache_control and (match := _MAX_AGE.search(cache_control)):
        seconds = int(match.group(1))
    return min(max(seconds, lower), upper)


def parse_key_set(document: dict[str, Any]) -> dict[str, Key]:
    """kid -> public key, for every usable signing key of a JWKS document."""
    keys: dict[str, Key] = {}
    entries = document.get("keys")
    for entry in entries if isinstance(entries, list) else []:
        key = _import(entry)
        if key is not None and key.kid:
            keys.setdefault(key.kid, key)
    return keys


def _usable(keys: dict[str, Key]) -> dict[str, Key]:
    if not keys:
        raise UpstreamError("jwks_unavailable", "no usable signing keys")
    return keys


def _import(entry: Any) -> Key | None:
    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
        return None
    public = {k: v for k, v in entry.items() if k not in ("d", "p", "q", "dp", "dq", "qi", "k")}
    try:
        key = JWKRegistry.import_key(public)
        key.ensure_kid()
    except (JoseError, ValueError, TypeError):
        return None
    return key if key.key_type != "oct" else None


class KeyCache:
    """Thread-safe kid -> key lookup over a JWKS ``fetch`` function."""

    def __init__(
        self,
        fetch: Fetch,
        clock: Callable[[], float],
        *,
        default_ttl: float = 300,
        min_ttl: float = 60,
        max_ttl: float = 86400,
        cooldown: float = 30,
    ) -> None:
        self._fetch, self._clock = fetch, clock
        self._ttl = (default_ttl, min_ttl, max_ttl)
        self._cooldown = cooldown
        self._keys: dict[str, Key] | None = None
        self._fresh_until = 0.0
        self._last_attempt: float | None = None
        self._last_error: UpstreamError | None = None
        self._lock = threading.Lock()

    def get(self, kid: str) -> Key:
        """The published key ``kid``; raise TokenError("unknown_kid") or UpstreamError."""
        cached = self._keys.get(kid) if self._keys is not None else None
        if cached is not None and self._clock() < self._fresh_until:
            return cached  # fast path, no lock: the set is replaced, never mutated
        if cached is not None and not self._lock.acquire(blocking=False):
            return cached  # another thread is refreshing; the stale key serves meanwhile
        if cached is None:
            self._lock.acquire()
        try:
            key = self._lookup(kid)
        finally:
            self._lock.release()
        if key is None:
            raise TokenError("unknown_kid")
        return key

    def _lookup(self, kid: str) -> Key | None:
        if self._keys is None or self._clock() >= self._fresh_until:
            self._refresh()
        if kid not in self._keys_or_raise() and self._may_refetch():
            self._refresh()
        return self._keys_or_raise().get(kid)

    def _keys_or_raise(self) -> dict[str, Key]:
        if self._keys is None:
            reason = self._last_error.reason if self._last_error else "jwks_unavailable"
            raise UpstreamError(reason, "waiting before retry")
        return self._keys

    def _may_refetch(self) -> bool:
        return self._last_attempt is None or self._clock() - self._last_attempt >= self._cooldown

    def _refresh(self) -> None:
        """Fetch the set; on failure keep the old one and retry no sooner than the cool-down."""
        if not self._may_refetch():
            self._keys_or_raise()
            return
        now = self._last_attempt = self._clock()
        try:
            document, cache_control = self._fetch()
            keys = _usable(parse_key_set(document))
        except UpstreamError as error:
            self._last_error = error
            if self._keys is None:
                raise
            log.warning("JWKS refresh failed (%s); keeping %d cached keys", error.reason, len(self._keys))
            self._fresh_until = now + self._cooldown
            return
        self._keys = keys
        self._fresh_until = now + freshness(cache_control, *self._ttl)
