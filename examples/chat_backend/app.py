"""An example chat backend protecting its API with authserver chat JWTs (RFC 6750 bearer).

Tokens are verified offline by :mod:`authserver_verifier` (RFC 9068 JWT access tokens
checked against the issuer's RFC 7517 JWKS). Configuration from the environment:
``AUTHSERVER_ISSUER`` (e.g. ``http://127.0.0.1:5000/realms/default``) and ``CHAT_AUDIENCE``
(the audience registered for this chat backend, e.g. ``chat-api``).

Run: ``flask --app examples/chat_backend/app.py run --port 8080``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, request

from authserver_verifier import InsufficientScope, TokenError, UpstreamError, Verifier

View = Callable[..., Any]


def create_app(verifier: Verifier | None = None) -> Flask:
    app = Flask(__name__)
    app.extensions["verifier"] = verifier or Verifier(
        issuer=os.environ["AUTHSERVER_ISSUER"], audience=os.environ["CHAT_AUDIENCE"]
    )

    @app.get("/v1/me")
    @bearer("chat:read")
    def me() -> Any:
        return {"sub": g.claims.subject, "uid": g.claims.get("uid"), "name": g.claims.get("name")}

    @app.post("/v1/rooms/<room>/messages")
    @bearer("chat:write")
    def post_message(room: str) -> Any:
        text = (request.get_json(silent=True) or {}).get("text", "")
        return {"room": room, "from": g.claims.subject, "text": text}, 201

    return app


def bearer(*scopes: str) -> Callable[[View], View]:
    """Require a valid chat JWT holding ``scopes`` whose ``acl`` claim, if any, allows the call."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(**kwargs: Any) -> Any:
            refusal = _authorize(scopes)
            return refusal if refusal is not None else view(**kwargs)

        return guarded

    return decorate


def _authorize(scopes: tuple[str, ...]) -> Any:
    """None when the request may proceed (claims in ``g.claims``), else the error response."""
    token = _bearer_token()
    if token is None:
        return _error(401, "invalid_request", "Bearer")
    try:
        g.claims = claims = current_app.extensions["verifier"].verify(token)
        claims.require_scope(*scopes)
    except UpstreamError:  # the issuer is unreachable: our problem, not the client's
        return _error(503, "temporarily_unavailable")
    except InsufficientScope as error:  # a TokenError too: catch it first
        return _error(403, error.error, f'Bearer error="{error.error}", scope="{error.scope}"')
    except TokenError as error:
        return _error(401, error.error, f'Bearer error="{error.error}"')
    if not claims.acl_allows(request.method, request.path):  # no acl claim: no path restrictions
        return _error(403, "access_denied")
    return None


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _error(status: int, error: str, challenge: str | None = None) -> Any:
    headers = {"WWW-Authenticate": challenge} if challenge else {}
    return {"error": error}, status, headers


if __name__ == "__main__":
    create_app().run(port=int(os.environ.get("PORT", "8080")))
