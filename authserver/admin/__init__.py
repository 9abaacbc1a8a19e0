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
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError
from flask import Blueprint, current_app, g, request
from werkzeug.exceptions import UnsupportedMediaType

from authserver.edge.bearer import bearer_token
from authserver.edge.json_input import parse_json_object
from authserver.errors import InvalidInput, NotFound
from authserver.models import Realm
from authserver.registry import validation
from authserver.registry.clients import ADMIN_SCOPE, find_client
from authserver.registry.realms import get_realm
from authserver.registry.urls import realm_issuer
from authserver.state import RealmContext, app_state
from authserver.tokens.access_tokens import InvalidToken, validate_access_token

log = logging.getLogger(__name__)
JSON_MEDIA_TYPE = "application/json"
#: At most 9 ASCII digits: no sign, no Unicode digits, no giant numbers to convert.
DIGITS = re.compile(r"[0-9]{1,9}")


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
        explain,
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
                   explain, openapi):
        parent.register_blueprint(module.blueprint)
    return parent


def admin_required(view: Callable | None = None, *, query: tuple[str, ...] = ()) -> Callable:
    """Authenticate the caller for the realm in the URL (or for every realm), then refuse
    query parameters other than the ``query`` names the view reads: a misspelt one is an
    error, not silently ignored. ``@admin_required`` or ``@admin_required(query=(...))``."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any):
            g.admin = authenticate(kwargs.get("realm"))
            unknown = sorted(set(request.args) - set(query))
            if unknown:
                raise InvalidInput(f"unknown query parameter(s): {', '.join(map(_printable, unknown))}")
            return view(*args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def actor() -> str:
    return g.admin.actor


def authenticate(url_realm: str | None) -> AdminCaller:
    token = bearer_token()
    if token is None:
        raise InvalidTokenError(description="Send an admin access token: Authorization: Bearer <token>.")
    candidates = dict.fromkeys(n for n in (url_realm, current_app.config["ADMIN_REALM"]) if n)
    for realm in filter(None, map(_known_realm, candidates)):
        claims = _valid_claims(realm, token)
        if claims is not None:
            return _caller(realm, claims)
    raise InvalidTokenError(description="The access token is invalid, expired, or not for this realm.")


def _known_realm(name: str) -> Realm | None:
    """The realm, from the process's cache of realm rows when it has been seen (no query)."""
    try:
        return get_realm(name)
    except NotFound:
        return None


def _valid_claims(realm: Realm, token: str) -> dict | None:
    ctx = RealmContext(realm=realm, issuer=realm_issuer(realm.name), state=app_state())
    try:
        return validate_access_token(ctx, token, audience=ctx.issuer)
    except InvalidToken as exc:
        log.info("admin token refused for realm %s: %s", realm.name, exc.reason)
        return None


def _caller(realm: Realm, claims: dict) -> AdminCaller:
    """A service token (``sub`` = ``client_id``) of a client that still exists, is enabled,
    and still holds the admin scope."""
    client_id = claims.get("client_id")
    client = find_client(realm, client_id) if isinstance(client_id, str) else None
    if client is None or client.disabled or claims.get("sub") != client_id:
        raise InvalidTokenError(description="The client of this access token is unknown or disabled.")
    if ADMIN_SCOPE not in str(claims.get("scope", "")).split() or ADMIN_SCOPE not in client.scopes:
        raise InsufficientScopeError(description="The access token lacks the 'admin' scope.")
    return AdminCaller(realm.name, client_id)


def json_body(optional: bool = False) -> dict:
    """The request's JSON object, read by the strict edge parser (``{}`` for an absent
    optional body). A body in another media type is refused with 415."""
    raw = request.get_data(cache=True)
    if optional and not raw:
        return {}
    if not _is_json(request.mimetype, request.mimetype_params):
        raise UnsupportedMediaType(f"Send the request body as {JSON_MEDIA_TYPE} (UTF-8).")
    return parse_json_object(raw, what="the request body")


def _is_json(mimetype: str, params: dict[str, str]) -> bool:
    """``application/json`` or a ``+json`` type (RFC 6839), in UTF-8 (RFC 8259 §8.1)."""
    json_type = mimetype == JSON_MEDIA_TYPE or (mimetype.startswith("application/") and mimetype.endswith("+json"))
    return json_type and params.get("charset", "utf-8").lower() in ("utf-8", "utf8")


def signing_alg(data: dict) -> str | None:
    """The ``alg`` member of a body: an algorithm name, or absent/null for the realm default."""
    return validation.text(data.get("alg"), "alg", 16, required=False)


def query_int(name: str, default: int, minimum: int, maximum: int) -> int:
    """An integer query parameter: ASCII digits, given at most once, within bounds."""
    raw = query_str(name)
    if raw is None:
        return default
    if not DIGITS.fullmatch(raw) or not minimum <= int(raw) <= maximum:
        raise InvalidInput(f"{name}: must be an integer from {minimum} to {maximum}")
    return int(raw)


def query_str(name: str) -> str | None:
    """A query parameter given at most once (``None`` when absent)."""
    values = request.args.getlist(name)
    if len(values) > 1:
        raise InvalidInput(f"{name}: give this query parameter at most once")
    return values[0] if values else None


def _printable(name: str) -> str:
    """A client-chosen name fit for ``error_description`` (printable ASCII, bounded)."""
    return "'" + "".join(c for c in name[:40] if 0x20 <= ord(c) <= 0x7E and c not in "'\\") + "'"
