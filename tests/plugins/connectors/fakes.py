"""In-process fakes for connector tests: an HTTP client, a clock, a replay cache, an
OpenID Provider (discovery + JWKS), and token minting, including forged tokens."""

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

from authserver.plugin_api import ConnectorContext, HttpResponse, UpstreamUnavailable

NOW = 1_700_000_000.0

Route = HttpResponse | Exception | Callable[[Mapping[str, str]], HttpResponse]


class FakeClock:
    def __init__(self, now: float = NOW):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeHttp:
    """The HttpClient protocol over a routing table; records every call."""

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


class DictReplayCache:
    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self.seen: dict[str, float] = {}

    def claim(self, key: str, expires_at: float) -> bool:
        if self.seen.get(key, float("-inf")) > self.clock():
            return False
        self.seen[key] = expires_at
        return True


def respond(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> HttpResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return HttpResponse(status=status, headers=dict(headers or {}), body=raw)


def down() -> UpstreamUnavailable:
    return UpstreamUnavailable("connection refused")


def make_context(http: FakeHttp, clock: FakeClock) -> ConnectorContext:
    return ConnectorContext(http=http, clock=clock, replay_cache=DictReplayCache(clock),
                            logger=logging.getLogger("tests.connectors"))


# --- keys and tokens -------------------------------------------------------------------


@functools.cache
def ec_key(kid: str) -> ECKey:
    return ECKey.generate_key("P-256", {"kid": kid})


@functools.cache
def rsa_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, {"kid": kid})


def jwks(*keys: Key) -> dict[str, Any]:
    return {"keys": [key.as_dict(private=False) for key in keys]}


def sign(claims: Mapping[str, Any], key: Key, alg: str = "ES256", **header: Any) -> str:
    head = {"alg": alg, "kid": key.kid, **header}
    head = {name: value for name, value in head.items() if value is not None}
    with warnings.catch_warnings():  # minting EdDSA or short HMAC keys on purpose
        warnings.simplefilter("ignore", SecurityWarning)
        return jwt.encode(head, dict(claims), key, algorithms=[alg])


def b64(data: bytes | Mapping[str, Any]) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


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
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    return f"{head}.{b64(claims)}.{signature}"


def oversized(token: str, limit: int) -> str:
    return token + "A" * (limit + 1 - len(token))


# --- an OpenID Provider -----------------------------------------------------------------


class FakeProvider:
    """Discovery + JWKS of one issuer, served through a FakeHttp."""

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
        now = int(self.clock())
        claims = {"iss": self.issuer, "sub": "user-42", "aud": self.client_id,
                  "iat": now, "exp": now + 600, "email": "ada@example.com",
                  "email_verified": True, "name": "Ada Lovelace", **overrides}
        return {name: value for name, value in claims.items() if value is not None}

    def id_token(self, key: Key | None = None, alg: str = "ES256", **overrides: Any) -> str:
        return sign(self.claims(**overrides), key or self.key, alg)
