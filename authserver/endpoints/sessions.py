"""``POST /realms/{r}/sessions``: an anonymous user and a device session for a public
client allowed to create them, with a first chat JWT for the requested audience.

Body (JSON or form): ``client_id``, ``audience``, optional ``scope`` and a non-verified
profile: ``name``, ``email``, ``custom`` (a JSON object).
"""

from __future__ import annotations

import json

from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError
from flask import Blueprint, g, jsonify, request

from authserver.edge.realm_binding import bind_realm
from authserver.identity.sessions import create_anonymous_session
from authserver.identity.subjects import Subject
from authserver.plugin_host.profiles import profile_for
from authserver.registry.clients import find_client
from authserver.tokens import usage
from authserver.tokens.audience import resolve_backend
from authserver.tokens.issuance import build_granted_token
from authserver.tokens.scopes import grant_scopes
from authserver.tokens.signing import bearer_response, issue_profiled_token

blueprint = Blueprint("sessions", __name__, url_prefix="/realms/<realm>")
blueprint.url_value_preprocessor(bind_realm)


@blueprint.post("/sessions")
def create_session():
    params = _params()  # OAuth errors raised here are rendered by endpoints/errors.py
    client = _public_client(params.get("client_id"))
    backend = resolve_backend(g.realm, client, params.get("audience"))
    scopes = grant_scopes(params.get("scope"), client.scopes, backend.scopes, backend.default_scopes)
    profile = {k: params[k] for k in ("name", "email", "custom") if k in params}
    created = create_anonymous_session(g.realm, client, request.remote_addr or "-", profile)
    subject = Subject(user=created.user, idp=None, sid=created.session.sid)
    profile_plugin = profile_for(backend)
    granted = build_granted_token(g.realm_issuer, client, backend, subject, scopes, profile_plugin)
    token, issued_type = issue_profiled_token(g.realm.name, granted, profile_plugin)
    usage.record(g.realm, created.user, client.client_id, "-", anonymous=True)
    body = bearer_response(token, granted.expires_at - granted.issued_at, scopes, issued_type)
    body.update({"session_token": created.session_token, "_id": created.user.uid})
    response = jsonify(body)
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


def _params() -> dict:
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise InvalidRequestError(description="The body must be a JSON object.")
        return data
    params = request.form.to_dict()
    if "custom" in params:
        try:
            params["custom"] = json.loads(params["custom"])
        except ValueError:
            raise InvalidRequestError(description="custom must be a JSON object.") from None
    return params


def _public_client(client_id):
    client = find_client(g.realm, client_id) if isinstance(client_id, str) else None
    if client is None or client.disabled or not client.is_public:
        raise InvalidClientError(status_code=401, description="Unknown, disabled or non-public client.")
    if not client.allow_anonymous:
        raise InvalidClientError(status_code=401, description="This client may not create anonymous users.")
    return client

