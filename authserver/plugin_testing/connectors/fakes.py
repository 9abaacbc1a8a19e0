"""In-process fakes for connector tests: an HTTP client, a clock, a connector context, an
OpenID Provider (discovery + JWKS), and token minting, forged tokens included.

Nothing here talks to the network or needs pytest::

    http, clock = FakeHttp(), FakeClock()
    provider = FakeProvider(http, clock)               # serves discovery and JWKS via http
    connector = MyConnector(config, make_context(http, clock, clock_skew=0))
    connector.verify(provider.id_token(), TOKEN_TYPE_ID_TOKEN, request)
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, Key, RSAKey
from joserfc.jws import JWSRegistry

from authserver.plugin_api import ConnectorContext, HttpResponse, UpstreamUnavailable

NOW = 1_700_000_000.0

Route = HttpResponse | Exception | Callable[[Mapping[str, str]], HttpResponse]


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self, now: float = NOW):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeHttp:
    """The ``HttpClient`` protocol over a routing table {url: route}; records every call.

    A route is a response, an exception to raise, or a function of the request headers
    returning a response. Unknown URLs answer 404.
    """

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.calls: list[tuple[str, str, dict[str, str]]] = []

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> HttpResponse:
        self.calls.append(("GET", url, dict(headers or {})))
        return self._answer(url, headers or {})

    def post(self, url: str, *, data: Mapping[str, str],
             headers: Mapping[str, str] | None = None) -> HttpResponse:
        self.calls.append(("POST", url, dict(headers or {})))
        return self._answer(url, headers or {})

    def urls(self) -> list[str]:
        return [url for _, url, _ in self.calls]

    def _answer(self, url: str, headers: Mapping[str, str]) -> HttpResponse:
        route = self.routes.get(url, respond({"error": "not found"}, status=404))
        if isinstance(route, Exception):
            raise route
        return route(headers) if callable(route) else route


def respond(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> HttpResponse:
    """A response with ``body`` (bytes as they are, anything else as JSON)."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status=status, headers=dict(headers or {}), body=raw)


def down() -> UpstreamUnavailable:
    """A route for an upstream that cannot be reached."""
    return UpstreamUnavailable("connection refused")


def make_context(http: FakeHttp, clock: FakeClock, clock_skew: int = 60,
                 max_token_bytes: int = 16 * 1024) -> ConnectorContext:
    """The context the core would hand a connector, with the configured limits."""
    return ConnectorContext(http=http, clock=clock, logger=logging.getLogger("authserver.plugin_testing"),
                            clock_skew=clock_skew, max_token_bytes=max_token_bytes)


# --- keys and tokens -------------------------------------------------------------------


@functools.cache
def ec_key(kid: str) -> ECKey:
    """A P-256 key, the same one for the same ``kid`` within a run."""
    return ECKey.generate_key("P-256", {"kid": kid})


@functools.cache
def rsa_key(kid: str) -> RSAKey:
    """A 2048-bit RSA key, the same one for the same ``kid`` within a run."""
    return RSAKey.generate_key(2048, {"kid": kid})


def jwks(*keys: Key) -> dict[str, Any]:
    """The public JWK Set (RFC 7517 §5) of ``keys``."""
    return {"keys": [key.as_dict(private=False) for key in keys]}


def sign(claims: Mapping[str, Any], key: Key, alg: str = "ES256", **header: Any) -> str:
    """A JWT of ``claims`` signed with ``key``; header members given as None are left out."""
    head = {"alg": alg, "kid": key.kid, **header}
    head = {name: value for name, value in head.items() if value is not None}
    with warnings.catch_warnings():  # minting EdDSA or short HMAC keys on purpose
        warnings.simplefilter("ignore", SecurityWarning)
        return jwt.encode(head, dict(claims), key, algorithms=[alg])


def sign_segments(header: bytes, payload: bytes, key: Key, alg: str = "ES256") -> str:
    """A compact JWS over exactly these header and payload bytes, correctly signed: to show
    that a connector refuses what its parser must refuse, not merely a bad signature."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    signature = JWSRegistry.algorithms[alg].sign(signing_input.encode(), key)
    return f"{signing_input}.{b64(signature)}"


def b64(data: bytes | Mapping[str, Any]) -> str:
    """base64url without padding (RFC 7515 §2) of bytes, or of a JSON object."""
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def unsigned(claims: Mapping[str, Any], kid: str | None = None) -> str:
    """An ``alg: none`` token (RFC 7519 §6)."""
    return f"{b64({'alg': 'none', 'kid': kid})}.{b64(claims)}."


def hmac_with_public_key(claims: Mapping[str, Any], key: RSAKey | ECKey) -> str:
    """The key-confusion attack: HS256 keyed with the verifier's public key PEM."""
    signing_input = f"{b64({'alg': 'HS256', 'kid': key.kid})}.{b64(claims)}"
    mac = hmac.new(key.as_pem(private=False), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def tamper(token: str) -> str:
    """Same header and signature, payload with ``sub`` changed."""
    head, payload, signature = token.split(".")
    claims = json.loads(b64decode(payload))
    claims["sub"] = "someone-else"
    return f"{head}.{b64(claims)}.{signature}"


def oversized(token: str, limit: int) -> str:
    """``token`` padded to one byte over ``limit``."""
    return token + "A" * (limit + 1 - len(token))


# --- an OpenID Provider -----------------------------------------------------------------


class FakeProvider:
    """Discovery + JWKS of one issuer, served through a :class:`FakeHttp`."""

    def __init__(self, http: FakeHttp, clock: FakeClock, issuer: str = "https://idp.example",
                 client_id: str = "chat-app", key: Key | None = None):
        self.http, self.clock = http, clock
        self.issuer, self.client_id = issuer, client_id
        self.key = key or ec_key("idp-1")
        self.discovery_url = f"{issuer}/.well-known/openid-configuration"
        self.jwks_url = f"{issuer}/jwks"
        self.userinfo_url = f"{issuer}/userinfo"
        self.serve_discovery()
        self.publish(self.key)

    def serve_discovery(self, **overrides: Any) -> None:
        document = {"issuer": self.issuer, "jwks_uri": self.jwks_url,
                    "userinfo_endpoint": self.userinfo_url, **overrides}
        self.http.routes[self.discovery_url] = respond(document)

    def publish(self, *keys: Key, headers: Mapping[str, str] | None = None) -> None:
        self.http.routes[self.jwks_url] = respond(jwks(*keys), headers=headers)

    def jwks_fetches(self) -> int:
        return self.http.urls().count(self.jwks_url)

    def claims(self, **overrides: Any) -> dict[str, Any]:
        """ID token claims valid now; an override of None removes the claim."""
        now = int(self.clock())
        claims = {"iss": self.issuer, "sub": "user-42", "aud": self.client_id,
                  "iat": now, "exp": now + 600, "email": "ada@example.com",
                  "email_verified": True, "name": "Ada Lovelace", **overrides}
        return {name: value for name, value in claims.items() if value is not None}

    def id_token(self, key: Key | None = None, alg: str = "ES256", **overrides: Any) -> str:
        return sign(self.claims(**overrides), key or self.key, alg)
