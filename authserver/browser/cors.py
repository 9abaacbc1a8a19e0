"""Cross-origin token requests from a browser app (Fetch standard, CORS): a single-page
app redeems its code and refreshes at ``/token`` from its own origin. Only the origins of
the redirect URIs registered for the client named in the request may read the answer;
every other origin gets no ``Access-Control-Allow-Origin`` and its script sees nothing. The
requests are form posts without credentials (CORS "simple" requests): nothing to preflight.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response, g, request

from authserver.registry.clients import GRANT_AUTHORIZATION_CODE, cached_client


def allow_registered_origin(response: Response) -> Response:
    """``Access-Control-Allow-Origin`` for a registered origin, and ``Vary: Origin`` only when
    the request carries an ``Origin`` (only then does the answer depend on it). The Fetch
    standard asks for ``Vary: Origin`` on answers to requests without one too when a cache might
    reuse them for a CORS request; no cache reuses these: answers to POSTs, sent ``no-store``."""
    origin = request.headers.get("Origin")
    if origin is None:
        return response
    form = getattr(g, "oauth_form", None)
    realm = getattr(g, "realm", None)
    if origin and form is not None and realm is not None and _registered(realm, form.get("client_id"), origin):
        response.headers["Access-Control-Allow-Origin"] = origin
    response.vary.add("Origin")
    return response


def _registered(realm, client_id: str | None, origin: str) -> bool:
    client = cached_client(realm, client_id) if client_id else None
    if client is None or client.disabled or not client.check_grant_type(GRANT_AUTHORIZATION_CODE):
        return False
    return any(_origin_of(uri) == origin for uri in client.redirect_uris)


def _origin_of(uri: str) -> str | None:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None
