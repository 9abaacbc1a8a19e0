"""Outbound HTTP for connectors (:class:`authserver.plugin_api.HttpClient`): timeouts
always, a response size cap, no redirects, and network failures as ``UpstreamUnavailable``."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import requests

from authserver import __version__
from authserver.plugin_api import HttpResponse, UpstreamUnavailable

MAX_RESPONSE_BYTES = 1024 * 1024


class RequestsHttpClient:
    def __init__(self, connect_timeout: float = 3.05, read_timeout: float = 5.0):
        self._timeout = (connect_timeout, read_timeout)
        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"authserver/{__version__}"
        #: ``observer(url, status or None, seconds)`` after every call (metrics)
        self.observer: Callable[[str, int | None, float], None] | None = None

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> HttpResponse:
        return self._send("GET", url, headers=headers)

    def post(self, url: str, *, data: Mapping[str, str],
             headers: Mapping[str, str] | None = None) -> HttpResponse:
        return self._send("POST", url, headers=headers, data=data)

    def _send(self, method: str, url: str, **kwargs) -> HttpResponse:
        started, status = time.perf_counter(), None
        try:
            response = self._receive(method, url, **kwargs)
            status = response.status
            return response
        finally:
            if self.observer is not None:
                self.observer(url, status, time.perf_counter() - started)

    def _receive(self, method: str, url: str, **kwargs) -> HttpResponse:
        try:
            with self._session.request(method, url, timeout=self._timeout, stream=True,
                                       allow_redirects=False, **kwargs) as response:
                body = response.raw.read(MAX_RESPONSE_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            raise UpstreamUnavailable(f"{method} {url}: {exc.__class__.__name__}") from None
        if len(body) > MAX_RESPONSE_BYTES:
            raise UpstreamUnavailable(f"{method} {url}: response larger than {MAX_RESPONSE_BYTES} bytes")
        return HttpResponse(status=response.status_code, headers=dict(response.headers), body=body)
