"""The admin JSON API under ``/admin``, authenticated with RFC 6750 bearer tokens.

A token is one of our RFC 9068 access tokens, obtained by an admin client through the
client credentials grant (RFC 6749 §4.4) with scope ``admin``. It administers its own
realm; a token of the ``ADMIN_REALM`` administers every realm and ``/admin/realms``.
Each noun has its own module and blueprint; the views call the same service functions as
the CLI and hold no logic of their own.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError
from flask import Blueprint, current_app, g, request

from authserver.edge.bearer import bearer_token
from authserver.errors import InvalidInput
from authserver.registry.clients import ADMIN_SCOPE, find_client
from authserver.registry.realms import find_realm
from authserver.registry.urls import realm_issuer
from authserver.state import RealmContext, app_state
from authserver.tokens.access_tokens import InvalidToken, validate_access_token

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AdminCaller:
    """Who is calling: an admin client of ``realm``."""

    realm: str
    client_id: str

    @property
    def actor(self) -> str:
        return f"client:{self.client_id}"


def create_blueprint() -> Blueprint:
    """``/admin`` with one nested blueprint per noun (a fresh parent for every app)."""
    from authserver.admin import (
        audit,
        backends,
        clients,
        idps,
        initial_tokens,
        keys,
        openapi,
        realms,
        usage,
        users,
        webhooks,
    )

    parent = Blueprint("admin", __name__, url_prefix="/admin")
    for module in (realms, clients, backends, initial_tokens, audit, keys, idps, users, usage, webhooks,
                   openapi):
        parent.register_blueprint(module.blueprint)
    return parent


def admin_required(view: Callable) -> Callable:
    """Authenticate the caller for the realm in the URL (or for every realm)."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any):
        g.admin = authenticate(kwargs.get("realm"))
        return view(*args, **kwargs)

    return wrapper


def actor() -> str:
    return g.admin.actor


def authenticate(url_realm: str | None) -> AdminCaller:
    token = bearer_token()
    if token is None:
        raise InvalidTokenError(description="Send an admin access token: Authorization: Bearer <token>.")
    candidates = dict.fromkeys(n for n in (url_realm, current_app.config["ADMIN_REALM"]) if n)
    for realm_name in candidates:
        claims = _valid_claims(realm_name, token)
        if claims is not None:
            return _caller(realm_name, claims)
    raise InvalidTokenError(description="The access token is invalid, expired, or not for this realm.")


def _valid_claims(realm_name: str, token: str) -> dict | None:
    if find_realm(realm_name) is None:
        return None
    ctx = RealmContext(realm=find_realm(realm_name), issuer=realm_issuer(realm_name), state=app_state())
    try:
        return validate_access_token(ctx, token, audience=ctx.issuer)
    except InvalidToken as exc:
        log.info("admin token refused for realm %s: %s", realm_name, exc.reason)
        return None


def _caller(realm_name: str, claims: dict) -> AdminCaller:
    """A service token (``sub`` = ``client_id``) of a client that still exists, is enabled,
    and still holds the admin scope."""
    client_id = claims.get("client_id")
    client = find_client(find_realm(realm_name), client_id) if isinstance(client_id, str) else None
    if client is None or client.disabled or claims.get("sub") != client_id:
        raise InvalidTokenError(description="The client of this access token is unknown or disabled.")
    if ADMIN_SCOPE not in str(claims.get("scope", "")).split() or ADMIN_SCOPE not in client.scopes:
        raise InsufficientScopeError(description="The access token lacks the 'admin' scope.")
    return AdminCaller(realm_name, client_id)


def json_body(optional: bool = False) -> dict:
    """The request's JSON object (``{}`` for an empty optional body)."""
    if optional and not request.get_data():
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidInput("the request body must be a JSON object")
    return data


def query_int(name: str, default: int, minimum: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not minimum <= int(raw) <= maximum:
        raise InvalidInput(f"{name}: must be an integer from {minimum} to {maximum}")
    return int(raw)
