"""Benchmark of authserver-verifier's hot path: ``.venv/bin/python bench/verifier.py``.

For ES256 and RS256 it prints verifications per second, on one thread, of:

* ``verifier`` -- ``Verifier.verify`` on a JWKS cache hit (discovery and JWKS are served by
  an in-process fake session, fetched once before timing; no network);
* ``joserfc`` -- a bare joserfc decode doing the same checks with the key already in hand:
  signature, ``alg`` allow-list, ``typ`` = ``at+jwt``, then ``iss``, ``aud``, ``exp``, ``nbf``
  through ``JWTClaimsRegistry``;

and the ratio verifier / joserfc. Time is this process's CPU time, rounds of the two
alternate and the best round of each is kept, so a neighbour's load on a shared machine
skews both alike. Nothing here asserts timings; ``--rounds`` and ``--seconds`` (per round)
set the length of the run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "verifier"))

from joserfc import jwt  # noqa: E402
from joserfc.jwk import ECKey, Key, RSAKey  # noqa: E402
from joserfc.jwt import JWTClaimsRegistry  # noqa: E402

from authserver_verifier import Verifier  # noqa: E402

ISSUER = "https://auth.bench/realms/default"
AUDIENCE = "chat-api"
ACCESS_TOKEN_TYPES = frozenset({"at+jwt", "application/at+jwt"})


class FakeResponse:
    def __init__(self, body: dict[str, Any], headers: dict[str, str]) -> None:
        self.status_code = 200
        self.content = json.dumps(body).encode()
        self.headers = headers
        self._body = body

    def json(self) -> dict[str, Any]:
        return self._body


class FakeSession:
    """Answers discovery and the JWKS from memory, counting requests."""

    def __init__(self, key: Key) -> None:
        self.documents = {
            f"{ISSUER}/.well-known/openid-configuration": {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"},
            f"{ISSUER}/jwks": {"keys": [key.as_dict(private=False)]},
        }
        self.requests = 0

    def get(self, url: str, **_: Any) -> FakeResponse:
        self.requests += 1
        return FakeResponse(self.documents[url], {"Cache-Control": "max-age=86400"})


def make_key(alg: str) -> Key:
    key = ECKey.generate_key("P-256") if alg == "ES256" else RSAKey.generate_key(2048)
    key.ensure_kid()
    return key


def make_token(key: Key, alg: str) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "alice",
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "jti": "5f0c1a2e9b7d4c3a8e6f1d2b0a9c8e7f",
        "client_id": "web",
        "scope": "chat:read chat:write",
        "uid": "u_8f3a",
        "identified": True,
        "verified": True,
        "idp": "google",
        "name": "Alice Example",
        "acl": [
            {"path": "/v1/users/alice/**", "methods": ["GET", "PATCH"]},
            {"path": "/v1/rooms/*/messages", "methods": ["GET", "POST"]},
        ],
    }
    header = {"typ": "at+jwt", "alg": alg, "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=[alg], default_type=None)


def bare_joserfc(key: Key, alg: str) -> Callable[[str], Any]:
    registry = JWTClaimsRegistry(
        leeway=60,
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": AUDIENCE},
        exp={"essential": True},
    )

    def decode(token: str) -> Any:
        decoded = jwt.decode(token, key, algorithms=[alg])
        typ = decoded.header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES:
            raise ValueError("bad typ")
        registry.validate(decoded.claims)
        return decoded.claims

    return decode


def rate(function: Callable[[str], Any], token: str, seconds: float) -> float:
    """Calls per CPU second of ``function(token)`` over about ``seconds`` of this process's CPU time."""
    count, start = 0, time.process_time()
    deadline = start + seconds
    while True:
        for _ in range(50):
            function(token)
        count += 50
        now = time.process_time()
        if now >= deadline:
            return count / (now - start)


def bench(alg: str, rounds: int, seconds: float) -> tuple[float, float]:
    key = make_key(alg)
    token = make_token(key, alg)
    session = FakeSession(key)
    verifier = Verifier(ISSUER, AUDIENCE, session=session, timeout=1.0)
    verifier.verify(token)  # discovery + JWKS, once: what follows is the cache-hit path
    bare = bare_joserfc(key, alg)
    assert bare(token)["sub"] == verifier.verify(token)["sub"] == "alice"
    best_verifier = best_bare = 0.0
    for _ in range(rounds):
        best_verifier = max(best_verifier, rate(verifier.verify, token, seconds))
        best_bare = max(best_bare, rate(bare, token, seconds))
    assert session.requests == 2, "the timed calls must all be JWKS cache hits"
    return best_verifier, best_bare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8, help="alternating rounds per side (best kept)")
    parser.add_argument("--seconds", type=float, default=0.5, help="CPU seconds per round")
    args = parser.parse_args()
    print(f"{'alg':<6} {'verifier/s':>11} {'joserfc/s':>11} {'ratio':>6}")
    for alg in ("ES256", "RS256"):
        ours, bare = bench(alg, args.rounds, args.seconds)
        print(f"{alg:<6} {ours:>11.0f} {bare:>11.0f} {ours / bare:>6.2f}")


if __name__ == "__main__":
    main()
