"""OpenID Connect Discovery 1.0 / RFC 8414 metadata of the issuer, fetched once.

The document is read from ``{issuer}/.well-known/openid-configuration`` on first use. Its
``issuer`` must equal the configured issuer exactly (OIDC Discovery section 4.3), or
nothing is trusted. A successful document is kept for the life of the process; after a
failure the next attempt waits ``retry_after`` seconds, so a down issuer is not hammered.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests

from .errors import UpstreamError

__all__ = ["Discovery", "get_json"]

MAX_DOCUMENT_BYTES = 1 << 20
Timeout = float | tuple[float, float]


def get_json(session: Any, url: str, timeout: Timeout, reason: str) -> tuple[dict[str, Any], Any]:
    """GET ``url``; return its JSON object and the response, or raise UpstreamError(reason)."""
    try:
        response = session.get(url, timeout=timeout, headers={"Accept": "application/json"})
    except requests.RequestException as error:
        raise UpstreamError(reason, type(error).__name__) from None
    return json_object(response, reason), response


def json_object(response: Any, reason: str) -> dict[str, Any]:
    """The JSON object of a 200 response no bigger than 1 MiB, else UpstreamError(reason)."""
    if response.status_code != 200:
        raise UpstreamError(reason, f"HTTP {response.status_code}")
    if len(response.content) > MAX_DOCUMENT_BYTES:
        raise UpstreamError(reason, "response too large")
    try:
        data = response.json()
    except ValueError:
        raise UpstreamError(reason, "not JSON") from None
    if not isinstance(data, dict):
        raise UpstreamError(reason, "not a JSON object")
    return data


class Discovery:
    """Lazily fetched, validated issuer metadata."""

    def __init__(
        self,
        issuer: str,
        session: Any,
        timeout: Timeout,
        clock: Callable[[], float],
        retry_after: float = 30.0,
    ) -> None:
        self.issuer = issuer
        self.url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        self._session, self._timeout, self._clock = session, timeout, clock
        self._retry_after = retry_after
        self._metadata: dict[str, Any] | None = None
        self._failure: tuple[float, str] | None = None
        self._lock = threading.Lock()

    def metadata(self) -> dict[str, Any]:
        """The discovery document; raises UpstreamError when it cannot be had or trusted."""
        with self._lock:
            if self._metadata is None:
                self._metadata = self._fetch_once()
            return self._metadata

    def endpoint(self, name: str, reason: str) -> str:
        """The URL under ``name`` (e.g. ``jwks_uri``), checked to be usable."""
        url = self.metadata().get(name)
        if not isinstance(url, str) or not _same_security(self.issuer, url):
            raise UpstreamError(reason, f"no usable {name}")
        return url

    def _fetch_once(self) -> dict[str, Any]:
        if self._failure and self._clock() - self._failure[0] < self._retry_after:
            raise UpstreamError(self._failure[1], "waiting before retry")
        try:
            return self._fetch()
        except UpstreamError as error:
            self._failure = (self._clock(), error.reason)
            raise

    def _fetch(self) -> dict[str, Any]:
        data, _ = get_json(self._session, self.url, self._timeout, "discovery_failed")
        if data.get("issuer") != self.issuer:
            raise UpstreamError("issuer_mismatch")
        return data


def _same_security(issuer: str, url: str) -> bool:
    """An https issuer may only point at https endpoints; any issuer at http(s) ones."""
    scheme = urlsplit(url).scheme
    if urlsplit(issuer).scheme == "https":
        return scheme == "https"
    return scheme in ("http", "https")
