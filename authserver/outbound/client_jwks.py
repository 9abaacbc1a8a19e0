"""Public keys a client registered (RFC 7591 §2): inline ``jwks``, or fetched from its
``jwks_uri`` through the app's outbound HTTP client (timeouts, deadline, size cap) and cached
per URI for a bounded time; the last good set is kept while the URI fails."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from authserver.edge.json_input import parse_json
from authserver.errors import InvalidInput
from authserver.keys.public_jwks import public_jwks
from authserver.outbound.http_client import RequestsHttpClient
from authserver.plugin_api import UpstreamUnavailable

CACHE_SECONDS = 300
log = logging.getLogger(__name__)


class ClientKeys:
    """One per app: ``jwks_uri`` key sets, cached."""

    def __init__(self, http: RequestsHttpClient, clock: Callable[[], float]):
        self._http = http
        self._clock = clock
        self._cache: dict[str, tuple[float, KeySet]] = {}
        self._lock = threading.Lock()

    def keyset(self, client) -> KeySet | None:
        if client.jwks:
            return KeySet.import_key_set(client.jwks)
        if client.jwks_uri:
            return self._fetch(client.jwks_uri)
        return None

    def _fetch(self, uri: str) -> KeySet | None:

        cached = self._cache.get(uri)
        if cached and cached[0] > self._clock():
            return cached[1]
        try:
            response = self._http.get(uri)
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            keys = KeySet.import_key_set(public_jwks(parse_json(response.body, max_bytes=256 * 1024)))
        except (UpstreamUnavailable, ValueError, JoseError, InvalidInput) as exc:
            log.warning("client jwks_uri %s unusable: %s", uri, exc.__class__.__name__)
            return cached[1] if cached else None
        with self._lock:
            self._cache[uri] = (self._clock() + CACHE_SECONDS, keys)
        return keys
