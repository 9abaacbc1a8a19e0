"""Chat-backend side of authserver: verify RFC 9068 chat JWTs against the issuer's RFC 7517
JWKS, check scopes and the ``acl`` claim, or ask RFC 7662 introspection.

Depends on joserfc and requests only -- no web framework, no database::

    from authserver_verifier import Verifier, TokenError, InsufficientScope

    verifier = Verifier(issuer="https://auth.example/realms/default", audience="chat-api")
    claims = verifier.verify(token)          # TokenError(.reason) when refused
    claims.require_scope("chat:write")       # InsufficientScope (a TokenError) when missing
    claims.acl_allows("POST", "/v1/rooms/42/messages")   # True when the token has no acl

| RFC / spec | module |
|---|---|
| RFC 9068 JWT access tokens, RFC 7515 JWS | ``verifier``, ``compact``, ``claims`` |
| RFC 7493 I-JSON (RFC 8725 section 3.7) | ``strict_json`` |
| RFC 7517 JWK Set | ``jwks`` |
| OIDC Discovery, RFC 8414 | ``discovery`` |
| RFC 7662 introspection | ``introspection`` |
| RFC 6750 bearer errors | ``errors`` |
| authserver ``acl`` claim | ``acl`` |
"""

from __future__ import annotations

from .acl import NO_ACL, acl_allows, path_matches
from .claims import AccessTokenClaims
from .errors import REASONS, InsufficientScope, TokenError, UpstreamError, VerifierError
from .verifier import DEFAULT_ALGORITHMS, Verifier

__all__ = [
    "DEFAULT_ALGORITHMS",
    "NO_ACL",
    "REASONS",
    "AccessTokenClaims",
    "InsufficientScope",
    "TokenError",
    "UpstreamError",
    "Verifier",
    "VerifierError",
    "acl_allows",
    "path_matches",
]
