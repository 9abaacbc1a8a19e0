"""``POST /realms/{r}/sessions``: an anonymous user and a device session for a public
client allowed to create them, with a first chat JWT for the requested audience.

Body (a JSON object, or a form): ``client_id``, optional ``audience``, ``scope``, and a
non-verified profile: ``name``, ``email``, ``custom`` (a JSON object), ``workspace``. Not an
OAuth endpoint, so an unknown field is refused rather than ignored.

1. parse          :class:`SessionRequest`, strictly (types, sizes, known fields only)
2. the client     public, enabled, allowed to create anonymous users
3. the target     a chat backend the client may target, and its scopes
4. the user       a new anonymous user and device session (same transaction)
5. issue          :func:`authserver.tokens.issuance.issue` commits user, session and usage
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError
from flask import Blueprint, g, jsonify, request

from authserver.edge.form import parse_form
from authserver.edge.json_input import MalformedJSON, parse_json, parse_json_object
from authserver.edge.realm_binding import bind_realm
from authserver.identity.decision import Decision
from authserver.identity.sessions import create_anonymous_session
from authserver.models import Client
from authserver.registry.clients import cached_client
from authserver.tokens.audience import resolve_backend
from authserver.tokens.issuance import Issuance, issue, profile_for
from authserver.tokens.scopes import grant_scopes, parse_scope

blueprint = Blueprint("sessions", __name__, url_prefix="/realms/<realm>")
blueprint.url_value_preprocessor(bind_realm)
TEXT_FIELDS = ("client_id", "audience", "scope", "name", "email", "workspace")
FIELDS = frozenset({*TEXT_FIELDS, "custom"})


@dataclass(frozen=True)
class SessionRequest:
    client_id: str
    audience: str | None
    scope: list[str] | None
    profile: dict[str, Any]

    @classmethod
    def parse(cls, body: dict[str, Any]) -> SessionRequest:
        unknown = sorted(set(body) - FIELDS)
        if unknown:
            raise InvalidRequestError(description=f"Unknown field(s): {', '.join(_safe(n) for n in unknown)}.")
        for name in TEXT_FIELDS:
            if name in body and not (isinstance(body[name], str) and len(body[name]) <= 2048):
                raise InvalidRequestError(description=f"{name} must be a string.")
        if "custom" in body and not isinstance(body["custom"], dict):
            raise InvalidRequestError(description="custom must be a JSON object.")
        if not body.get("client_id"):
            raise InvalidClientError(status_code=401, description="client_id is required.")
        profile = {k: body[k] for k in ("name", "email", "custom", "workspace") if k in body}
        return cls(client_id=body["client_id"], audience=body.get("audience") or None,
                   scope=parse_scope(body.get("scope")), profile=profile)


@blueprint.post("/sessions")
def create_session():
    ctx = g.realm_ctx
    params = SessionRequest.parse(_body())                                                # 1
    client = _public_client(params.client_id)                                             # 2
    backend = resolve_backend(ctx.realm, client, params.audience)                         # 3
    profile = profile_for(ctx, backend)
    scopes = grant_scopes(params.scope, client.scopes, backend.scopes, backend.default_scopes)
    created = create_anonymous_session(ctx, client, request.remote_addr or "-", params.profile)  # 4
    decision = Decision(user=created.user, outcome="created", rule="anonymous", verified=False)
    issued = issue(ctx, Issuance(client=client, audience=backend.audience, scopes=scopes,     # 5
                                 ttl=backend.token_ttl, backend=backend, profile=profile,
                                 decision=decision, sid=created.session.sid))
    body = {**issued.bearer_response(), "session_token": created.session_token, "_id": created.user.uid}
    response = jsonify(body)
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


def _body() -> dict[str, Any]:
    """A JSON object, or a form whose ``custom`` field is a JSON object."""
    raw = request.get_data(cache=True)
    try:
        if request.mimetype == "application/json":
            return parse_json_object(raw, what="the body")
        form = parse_form(raw, request.content_type).to_dict()
        if "custom" in form:
            form["custom"] = parse_json(form["custom"], what="custom")
        return form
    except MalformedJSON as exc:
        raise InvalidRequestError(description=exc.message) from None


def _public_client(client_id: str) -> Client:
    client = cached_client(g.realm, client_id)
    if client is None or client.disabled or not client.is_public:
        raise InvalidClientError(status_code=401, description="Unknown, disabled or non-public client.")
    if not client.allow_anonymous:
        raise InvalidClientError(status_code=401, description="This client may not create anonymous users.")
    return client


def _safe(name: str) -> str:
    return "".join(c for c in name[:40] if 0x20 <= ord(c) <= 0x7E and c not in '"\\') or "?"
