"""Public keys a client registered: inline ``jwks`` or fetched from its ``jwks_uri``
(RFC 7591 §2), cached per URI for a bounded time."""

from __future__ import annotations

import logging
import threading
import time

import requests
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from authserver.errors import InvalidInput
from authserver.registry.clients import public_jwks

CACHE_SECONDS = 300
TIMEOUT = (3.05, 5)
MAX_BYTES = 256 * 1024
log = logging.getLogger(__name__)
_cache: dict[str, tuple[float, KeySet]] = {}
_lock = threading.Lock()


def client_keyset(client) -> KeySet | None:
    if client.jwks:
        return KeySet.import_key_set(client.jwks)
    if client.jwks_uri:
        return _fetch(client.jwks_uri)
    return None


def _fetch(uri: str) -> KeySet | None:
    cached = _cache.get(uri)
    if cached and cached[0] > time.monotonic():
        return cached[1]
    try:
        response = requests.get(uri, timeout=TIMEOUT, allow_redirects=False)
        response.raise_for_status()
        if len(response.content) > MAX_BYTES:
            raise ValueError("too large")
        keys = KeySet.import_key_set(public_jwks(response.json()))
    except (requests.RequestException, ValueError, JoseError, InvalidInput) as exc:
        log.warning("client jwks_uri %s unusable: %s", uri, exc.__class__.__name__)
        return cached[1] if cached else None
    with _lock:
        _cache[uri] = (time.monotonic() + CACHE_SECONDS, keys)
    return keys
