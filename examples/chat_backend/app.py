"""An example chat backend protecting its API with authserver chat JWTs (RFC 6750 bearer).

Tokens are verified offline by :mod:`authserver_verifier` (RFC 9068 JWT access tokens
checked against the issuer's RFC 7517 JWKS). Configuration from the environment:
``AUTHSERVER_ISSUER`` (e.g. ``http://127.0.0.1:5000/realms/default``) and ``CHAT_AUDIENCE``
(the audience registered for this chat backend, e.g. ``chat-api``).

It also receives authserver's webhooks (Standard Webhooks, verified with the
``standardwebhooks`` library) at ``POST /webhooks/authserver``: ``user.merged`` moves the
discarded user's conversations to the surviving user, ``user.tokens_revoked`` refuses the
user's tokens issued until then (their connections drop now, not when the tokens expire).
``AUTHSERVER_WEBHOOK_SECRETS`` holds the subscription's ``whsec_`` secret (two, space-separated,
while rotating).

Run: ``flask --app examples/chat_backend/app.py run --port 8080``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, current_app, g, request
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from authserver_verifier import InsufficientScope, TokenError, UpstreamError, Verifier

View = Callable[..., Any]


class ChatState:
    """In memory, for the example: messages per user (``uid``), token cut-offs, webhooks seen."""

    def __init__(self) -> None:
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.tokens_not_before: dict[str, int] = {}
        self.seen: set[str] = set()


def create_app(verifier: Verifier | None = None, webhook_secrets: list[str] | None = None) -> Flask:
    app = Flask(__name__)
    app.extensions["verifier"] = verifier or Verifier(
        issuer=os.environ["AUTHSERVER_ISSUER"], audience=os.environ["CHAT_AUDIENCE"]
    )
    if webhook_secrets is None:
        webhook_secrets = os.environ.get("AUTHSERVER_WEBHOOK_SECRETS", "").split()
    app.extensions["webhooks"] = [Webhook(secret) for secret in webhook_secrets]
    app.extensions["chat"] = chat = ChatState()

    @app.get("/v1/me")
    @bearer("chat:read")
    def me() -> Any:
        return {"sub": g.claims.subject, "uid": g.claims.get("uid"), "name": g.claims.get("name")}

    @app.post("/v1/rooms/<room>/messages")
    @bearer("chat:write")
    def post_message(room: str) -> Any:
        text = (request.get_json(silent=True) or {}).get("text", "")
        message = {"room": room, "from": g.claims.subject, "text": text}
        chat.messages.setdefault(g.claims.get("uid"), []).append(message)
        return message, 201

    @app.get("/v1/me/messages")
    @bearer("chat:read")
    def my_messages() -> Any:
        return {"messages": chat.messages.get(g.claims.get("uid"), [])}

    @app.post("/webhooks/authserver")
    def authserver_event() -> Any:
        event = _verified_event()
        if event is None:
            return {"error": "invalid_signature"}, 400
        if event["id"] not in chat.seen:  # delivered at least once: act once
            chat.seen.add(event["id"])
            _apply_event(chat, event["type"], event["data"])
        return "", 204

    return app


def _verified_event() -> dict[str, Any] | None:
    body = request.get_data()
    for webhook in current_app.extensions["webhooks"]:
        try:
            return webhook.verify(body, dict(request.headers))
        except WebhookVerificationError:
            continue
    return None


def _apply_event(chat: ChatState, type_: str, data: dict[str, Any]) -> None:
    if type_ == "user.merged":
        moved = chat.messages.pop(data["discarded"]["_id"], [])
        chat.messages.setdefault(data["surviving"]["_id"], []).extend(moved)
    elif type_ == "user.tokens_revoked":
        chat.tokens_not_before[data["_id"]] = data["not_before"]


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
    cut_off = current_app.extensions["chat"].tokens_not_before.get(claims.get("uid"))
    if cut_off is not None and int(claims.get("iat") or 0) <= cut_off:  # logged out everywhere
        return _error(401, "invalid_token", 'Bearer error="invalid_token"')
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
