"""One webhook delivery attempt over HTTP, with the receiver safety rules:

- http and https URLs only, no credentials in them; redirects are never followed (a 3xx
  is a failed attempt);
- the receiver's name is resolved at every attempt and every address it resolves to must be
  public (not loopback, private, link-local, shared, multicast or reserved) unless
  ``WEBHOOK_ALLOW_PRIVATE_ADDRESSES``; the connection goes to the address that was checked
  (TLS still verifies the name), so a DNS answer cannot change between check and connect;
- a connect timeout and a deadline for the whole attempt, however slowly the receiver
  trickles; at most ``WEBHOOK_MAX_RESPONSE_BYTES`` of the answer are read.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from authserver import __version__
from authserver.errors import InvalidInput

Resolver = Callable[[str, int], list[str]]
DELIVERED, FAILED, REFUSED, TIMEOUT = "delivered", "failed", "refused", "timeout"
_EXCERPT_CHARS = 512


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class Outcome:
    result: str  # delivered | failed | refused | timeout
    duration_ms: int
    status: int | None = None
    error: str | None = None
    excerpt: str | None = None

    @property
    def delivered(self) -> bool:
        return self.result == DELIVERED


class Refused(Exception):
    """The receiver's address may not be reached."""


def parse_target(url: str) -> Target:
    """Raise :class:`InvalidInput` for anything but an absolute http(s) URL with a host."""
    if not isinstance(url, str) or len(url) > 2048 or any(c in url for c in " \r\n\t"):
        raise InvalidInput("url: must be an http(s) URL of at most 2048 characters, without spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise InvalidInput("url: not a valid URL (host or port)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"url: {url!r} must be an absolute http or https URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidInput("url: must not carry credentials (user:password@)")
    if parts.fragment:
        raise InvalidInput("url: must not contain a fragment")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80), path)


def system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def forbidden_reason(address: str) -> str | None:
    """Why ``address`` is not a public address, or None when it is."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for label, flag in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                        ("private", ip.is_private), ("multicast", ip.is_multicast),
                        ("unspecified", ip.is_unspecified), ("reserved", ip.is_reserved)):
        if flag:
            return label
    return None if ip.is_global else "not globally routable"


def checked_addresses(target: Target, allow_private: bool, resolve: Resolver) -> list[str]:
    """The addresses to connect to; :class:`Refused` if any is not allowed."""
    try:
        addresses = resolve(target.host, target.port)
    except (OSError, UnicodeError) as exc:
        raise Refused(f"cannot resolve {target.host}: {exc.__class__.__name__}") from None
    if not addresses:
        raise Refused(f"{target.host} resolves to no address")
    if not allow_private:
        for address in addresses:
            reason = forbidden_reason(address)
            if reason:
                raise Refused(f"{target.host} resolves to {address}, a {reason} address")
    return addresses


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP to one checked address; the Host header still names the receiver."""

    def __init__(self, address: str, port: int, connect_timeout: float, io_timeout: float):
        super().__init__(address, port, timeout=connect_timeout)
        self._address, self._io_timeout = address, io_timeout

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock.settimeout(self._io_timeout)


class _PinnedTLSConnection(_PinnedConnection):
    def __init__(self, address: str, port: int, connect_timeout: float, io_timeout: float,
                 server_hostname: str, context: ssl.SSLContext):
        super().__init__(address, port, connect_timeout, io_timeout)
        self._server_hostname, self._context = server_hostname, context

    def connect(self) -> None:
        super().connect()
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self._server_hostname)


class Sender:
    """POSTs signed bodies to receivers; never raises, returns an :class:`Outcome`."""

    def __init__(self, connect_timeout: float, total_timeout: float, max_response_bytes: int,
                 allow_private: bool, resolve: Resolver = system_resolve):
        self.connect_timeout, self.total_timeout = connect_timeout, total_timeout
        self.max_response_bytes, self.allow_private = max_response_bytes, allow_private
        self.resolve = resolve
        self.tls_context = ssl.create_default_context()

    def check_url(self, url: str) -> str:
        """At subscription time: refuse a URL whose address is not allowed now."""
        target = parse_target(url)
        try:
            checked_addresses(target, self.allow_private, self.resolve)
        except Refused as exc:
            if not str(exc).startswith("cannot resolve"):
                raise InvalidInput(f"url: {exc} (WEBHOOK_ALLOW_PRIVATE_ADDRESSES is off)") from None
        return url

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> Outcome:
        started = time.monotonic()
        try:
            target = parse_target(url)
            address = checked_addresses(target, self.allow_private, self.resolve)[0]
        except (InvalidInput, Refused) as exc:
            return Outcome(REFUSED, _ms(started), error=_short(str(exc)))
        connection = self._connection(target, address)
        watchdog = threading.Timer(self.total_timeout, _abort, args=(connection,))
        watchdog.daemon = True
        watchdog.start()
        try:
            return self._exchange(connection, target, body, headers, started)
        except TimeoutError:
            return Outcome(TIMEOUT, _ms(started), error="timed out")
        except (OSError, http.client.HTTPException) as exc:
            if time.monotonic() - started >= self.total_timeout:
                return Outcome(TIMEOUT, _ms(started), error=f"no answer within {self.total_timeout:g} s")
            return Outcome(FAILED, _ms(started), error=_short(f"{exc.__class__.__name__}: {exc}"))
        finally:
            watchdog.cancel()
            connection.close()

    def _connection(self, target: Target, address: str) -> _PinnedConnection:
        io_timeout = self.total_timeout
        if target.scheme == "https":
            return _PinnedTLSConnection(address, target.port, self.connect_timeout, io_timeout,
                                        target.host, self.tls_context)
        return _PinnedConnection(address, target.port, self.connect_timeout, io_timeout)

    def _exchange(self, connection: _PinnedConnection, target: Target, body: bytes,
                  headers: Mapping[str, str], started: float) -> Outcome:
        connection.request("POST", target.path, body=body, headers={
            "Host": target.host_header, "Content-Type": "application/json",
            "User-Agent": f"authserver-webhooks/{__version__}", **headers})
        response = connection.getresponse()
        excerpt = _excerpt(response.read(self.max_response_bytes))
        status = response.status
        if 200 <= status < 300:
            return Outcome(DELIVERED, _ms(started), status=status, excerpt=excerpt)
        error = f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
        return Outcome(FAILED, _ms(started), status=status, error=error, excerpt=excerpt)


def _abort(connection: _PinnedConnection) -> None:
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _short(text: str) -> str:
    return text[:300]


def _excerpt(raw: bytes) -> str | None:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")[:_EXCERPT_CHARS]
    return "".join(c if c.isprintable() or c in "\n\t" else "?" for c in text)
