"""An in-process fake issuer for the verifier tests: discovery, RFC 7517 JWKS, RFC 7662 introspection.

Keys are generated with joserfc at test time; no private key is committed.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from joserfc.jwk import ECKey, Key
from joserfc.jws import JWSRegistry

from authserver_verifier import TokenError, Verifier

AUDIENCE = "chat-api"
INTROSPECTION_CLIENT = ("chat-api", "s3cret:with/odd chars")


class FakeClock:
    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeIssuer:
    """A ThreadingHTTPServer on 127.0.0.1 that plays authserver's realm endpoints."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.issuer = self  # type: ignore[attr-defined]
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.issuer = f"{self.base}/realms/default"
        self.discovery_issuer = self.issuer
        self.keys: list[Key] = [new_key()]
        self.cache_control: str | None = "public, max-age=300"
        self.active_tokens: set[str] = set()
        self.hits: Counter[str] = Counter()
        self.down = False
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def key(self) -> Key:
        return self.keys[0]

    def stop(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self._thread.join()

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "sub": "alice",
            "aud": AUDIENCE,
            "iat": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
            "client_id": "web",
            "scope": "chat:read chat:write",
            "uid": "u_1",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def sign(self, key: Key | None = None, header: dict[str, Any] | None = None, **claims: Any) -> str:
        key = key or self.key
        alg = {"EC": "ES256", "RSA": "RS256", "OKP": "EdDSA"}[key.key_type]
        head = {"typ": "at+jwt", "alg": alg, "kid": key.kid, **(header or {})}
        head = {k: v for k, v in head.items() if v is not None}
        return sign_raw(head, self.claims(**claims), key)

    def document(self, path: str) -> tuple[dict[str, Any], dict[str, str]] | None:
        if path == "/realms/default/.well-known/openid-configuration":
            return self._discovery(), {}
        if path == "/realms/default/jwks":
            keys = {"keys": [k.as_dict(private=False) for k in self.keys]}
            return keys, {"Cache-Control": self.cache_control} if self.cache_control else {}
        return None

    def _discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.discovery_issuer,
            "jwks_uri": f"{self.issuer}/jwks",
            "introspection_endpoint": f"{self.issuer}/introspect",
            "token_endpoint": f"{self.issuer}/token",
        }

    def introspection(self, authorization: str, body: str) -> tuple[int, dict[str, Any]]:
        expected = "Basic " + base64.b64encode(b"chat-api:s3cret%3Awith%2Fodd%20chars").decode()
        if authorization != expected:
            return 401, {"error": "invalid_client"}
        token = parse_qs(body).get("token", [""])[0]
        if token in self.active_tokens:
            return 200, {"active": True, "sub": "alice", "aud": AUDIENCE}
        return 200, {"active": False}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        issuer: FakeIssuer = self.server.issuer  # type: ignore[attr-defined]
        issuer.hits[self.path] += 1
        found = None if issuer.down else issuer.document(self.path)
        if found is None:
            return self._send(503 if issuer.down else 404, {"error": "not_found"})
        self._send(200, *found)

    def do_POST(self) -> None:  # noqa: N802
        issuer: FakeIssuer = self.server.issuer  # type: ignore[attr-defined]
        issuer.hits[self.path] += 1
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        self._send(*issuer.introspection(self.headers.get("Authorization", ""), body))

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


class RecordingSession(requests.Session):
    """A real session that remembers the keyword arguments of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        self.calls.append({"method": method, "url": url, **kwargs})
        return super().request(method, url, *args, **kwargs)


def refused(verifier: Verifier, token: str) -> str:
    """The reason ``verifier`` refuses ``token``; the error must not echo the token."""
    with pytest.raises(TokenError) as caught:
        verifier.verify(token)
    assert token not in str(caught.value)
    return caught.value.reason


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: Any) -> str:
    return b64(json.dumps(value).encode())


def sign_raw(header: dict[str, Any], claims: dict[str, Any], key: Key) -> str:
    """Sign whatever header we like (joserfc's own encoder refuses odd ones on purpose)."""
    return sign_bytes(json.dumps(header).encode(), json.dumps(claims).encode(), key)


def sign_bytes(header: bytes, payload: bytes, key: Key) -> str:
    """Sign exactly these header and payload bytes, however odd their JSON or encoding."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    alg = JWSRegistry.algorithms[{"EC": "ES256", "RSA": "RS256", "OKP": "EdDSA"}[key.key_type]]
    return f"{signing_input}.{b64(alg.sign(signing_input.encode(), key))}"


def new_key() -> Key:
    key = ECKey.generate_key("P-256")
    key.ensure_kid()
    return key


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def issuer(clock: FakeClock) -> Any:
    fake = FakeIssuer(clock)
    yield fake
    fake.stop()


@pytest.fixture
def session() -> RecordingSession:
    return RecordingSession()


@pytest.fixture
def verifier(issuer: FakeIssuer, clock: FakeClock, session: RecordingSession) -> Verifier:
    return Verifier(issuer.issuer, AUDIENCE, clock=clock, session=session, timeout=2.0)
