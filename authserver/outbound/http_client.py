"""Outbound HTTP for connectors (:class:`authserver.plugin_api.HttpClient`) and for clients'
``jwks_uri``: a connect timeout, a read timeout per socket read, and a total deadline for the
whole call (an upstream that trickles one byte a second is cut off), a response size cap, no
redirects, and every transport failure — whatever layer raises it — as ``UpstreamUnavailable``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

import requests
import urllib3

from authserver import __version__
from authserver.plugin_api import HttpResponse, UpstreamUnavailable

MAX_RESPONSE_BYTES = 1024 * 1024
_CHUNK = 16 * 1024
#: Failures of the transport, at every layer under ``requests``.
TRANSPORT_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ValueError)


class RequestsHttpClient:
    def __init__(self, connect_timeout: float = 3.05, read_timeout: float = 5.0, total_timeout: float = 10.0):
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._total_timeout = total_timeout
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
        deadline = time.monotonic() + self._total_timeout
        try:
            with self._session.request(method, url, stream=True, allow_redirects=False,
                                       timeout=(self._connect_timeout, self._read_timeout),
                                       **kwargs) as response:
                body = _read_until(response, deadline, f"{method} {url}")
        except UpstreamUnavailable:
            raise
        except TRANSPORT_ERRORS as exc:
            raise UpstreamUnavailable(f"{method} {url}: {exc.__class__.__name__}") from None
        return HttpResponse(status=response.status_code, headers=dict(response.headers), body=body)


def _read_until(response: requests.Response, deadline: float, what: str) -> bytes:
    """The body, read as it arrives (``read1`` returns whatever one socket read brings, so a
    trickling upstream cannot keep a read going); refused past the size cap or the deadline."""
    chunks, size = [], 0
    while chunk := response.raw.read1(_CHUNK, decode_content=True):
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise UpstreamUnavailable(f"{what}: response larger than {MAX_RESPONSE_BYTES} bytes")
        if time.monotonic() > deadline:
            raise UpstreamUnavailable(f"{what}: no complete response within the deadline")
        chunks.append(chunk)
    return b"".join(chunks)
