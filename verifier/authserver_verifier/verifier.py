"""Verify authserver chat JWTs: RFC 9068 JWT access tokens signed with keys from RFC 7517 JWKS.

Offline, :meth:`Verifier.verify` checks, in order: size, compact form, header (an I-JSON
object, :mod:`authserver_verifier.strict_json`), ``typ`` (``at+jwt``), ``alg`` (allow-list),
``kid`` (in the issuer's JWKS), signature, then decodes the payload the same strict way and
checks the claims (``iss``, ``aud``, ``exp``, ``nbf``, ``iat``, see
:mod:`authserver_verifier.claims`). On a JWKS cache hit nothing is fetched or re-imported:
the cache holds joserfc keys by ``kid``.
The issuer's metadata comes from OpenID Connect Discovery / RFC 8414 and the keys from its
``jwks_uri`` (see :mod:`authserver_verifier.jwks` for the cache rules).

Online, :meth:`Verifier.introspect` asks the issuer (RFC 7662), which also reflects
revocation (RFC 7009) and disabled users; use it for sensitive calls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import requests

from .claims import AccessTokenClaims, ClaimsPolicy, check_claims
from .compact import ASYMMETRIC_ALGORITHMS, decode_payload, parse, verify_signature
from .discovery import Discovery, Timeout, get_json
from .errors import TokenError
from .introspection import introspect
from .jwks import KeyCache

__all__ = ["DEFAULT_ALGORITHMS", "Verifier"]

log = logging.getLogger("authserver_verifier")
DEFAULT_ALGORITHMS = ("ES256", "RS256", "EdDSA")
MAX_TOKEN_SIZE = 16 * 1024


class Verifier:
    """Checks tokens of one ``issuer`` meant for one chat backend ``audience``.

    ``session`` (``requests.Session``-like) and ``clock`` (seconds since the epoch) are
    injectable; every HTTP call passes ``timeout``. One instance is meant to live as long as
    the process and may be shared between threads.
    """

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
        leeway: int = 60,
        max_token_age: int | None = None,
        required_claims: Iterable[str] = ("sub",),
        max_token_size: int = MAX_TOKEN_SIZE,
        session: Any = None,
        timeout: Timeout = (3.05, 10.0),
        clock: Callable[[], float] = time.time,
        jwks_ttl: tuple[float, float, float] = (300, 60, 86400),
        refetch_cooldown: float = 30,
    ) -> None:
        """``jwks_ttl`` is (default, min, max) seconds of JWKS freshness; see module jwks."""
        self.issuer, self.audience = issuer, audience
        self.algorithms = _allowed(algorithms)
        self.policy = ClaimsPolicy(issuer, audience, leeway, max_token_age, tuple(required_claims))
        self.max_token_size = max_token_size
        self._session = session if session is not None else requests.Session()
        self._timeout = _required_timeout(timeout)
        self._clock = clock
        self.discovery = Discovery(issuer, self._session, self._timeout, clock, refetch_cooldown)
        default_ttl, min_ttl, max_ttl = jwks_ttl
        self.keys = KeyCache(
            self._fetch_jwks,
            clock,
            default_ttl=default_ttl,
            min_ttl=min_ttl,
            max_ttl=max_ttl,
            cooldown=refetch_cooldown,
        )

    def verify(self, token: str | bytes) -> AccessTokenClaims:
        """The token's claims if it is a valid chat JWT for this audience; else TokenError."""
        try:
            return self._verify(token)
        except TokenError as error:
            log.debug("token refused: %s", error.reason)
            raise

    def introspect(self, token: str, *, client_id: str, client_secret: str) -> dict[str, Any]:
        """RFC 7662 response for ``token``; ``result["active"]`` is always a bool."""
        url = self.discovery.endpoint("introspection_endpoint", "no_introspection_endpoint")
        return introspect(self._session, url, token, client_id, client_secret, self._timeout)

    def is_active(self, token: str, *, client_id: str, client_secret: str) -> bool:
        """True when the issuer says the token is active (not expired, revoked, or disabled)."""
        return self.introspect(token, client_id=client_id, client_secret=client_secret)["active"]

    def _verify(self, token: str | bytes) -> AccessTokenClaims:
        compact = parse(token, self.max_token_size, self.algorithms)
        verify_signature(compact, self.keys.get(compact.kid))
        return check_claims(decode_payload(compact), self.policy, self._clock())

    def _fetch_jwks(self) -> tuple[dict[str, Any], str | None]:
        url = self.discovery.endpoint("jwks_uri", "jwks_unavailable")
        document, response = get_json(self._session, url, self._timeout, "jwks_unavailable")
        return document, response.headers.get("Cache-Control")


def _allowed(algorithms: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(algorithms)
    unsafe = chosen - ASYMMETRIC_ALGORITHMS
    if unsafe or not chosen:
        raise ValueError(f"algorithms must be asymmetric JWS algorithms; refused: {sorted(unsafe)}")
    return chosen


def _required_timeout(timeout: Timeout) -> Timeout:
    if timeout is None or (isinstance(timeout, (int, float)) and timeout <= 0):
        raise ValueError("timeout must be set: outbound calls never wait forever")
    return timeout
