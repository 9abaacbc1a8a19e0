"""OpenAPI 3.1 description of the admin API, served at ``/admin/openapi.json`` (no token
needed: it describes the API and holds no data).

The paths are fixed here; the schemas (:mod:`authserver.admin.schemas`) are computed from
the live application, so the document cannot drift from what the API accepts. Each
operation lists every status it answers. ``tests/admin/test_openapi.py`` checks the document
names every admin route; ``tests/test_fuzz_admin.py`` checks every answer against it.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from authserver import __version__
from authserver.admin.schemas import BOOL, OBJECT, STR, enum, schemas
from authserver.identity import users
from authserver.models.client import AUTH_METHODS
from authserver.models.event import DELIVERY_STATES
from authserver.models.signing_key import KeyState
from authserver.registry.paging import DEFAULT_LIMIT, MAX_LIMIT

blueprint = Blueprint("openapi", __name__)


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str, **headers: str) -> dict[str, Any]:
    answer = {"description": description, **_json(_ref("Error"))}
    if headers:
        answer["headers"] = {name.replace("_", "-"): {"description": text, "required": True, "schema": STR}
                             for name, text in headers.items()}
    return answer


ERRORS = {
    "400": _error("invalid_request: a malformed body or query, or a value the API refuses"),
    "401": _error("invalid_token: a missing, invalid, expired or wrong-realm token",
                  WWW_Authenticate="RFC 6750 §3 challenge"),
    "403": _error("insufficient_scope: the token lacks scope admin"),
    "404": _error("not_found: no such realm, or no such object in it"),
    "409": _error("conflict: the name is taken, the object is in use, or the operation is under way"),
    "413": _error("request_too_large: the body exceeds MAX_CONTENT_LENGTH"),
    "415": _error("unsupported_media_type: a body that is not application/json in UTF-8"),
    "503": _error("temporarily_unavailable: the database cannot be reached; retry later",
                  Retry_After="seconds"),
}
NO_STORE = {"Cache-Control": {"description": "no-store: the answer holds a secret, shown once",
                              "required": True, "schema": enum("no-store")}}


def _op(summary: str, tag: str, response: str | None = None, status: str = "200", *,
        body: str | None = None, many: bool = False, params: tuple[str, ...] = ("realm",),
        optional_body: bool = False, errors: str = "", headers: dict | None = None) -> dict[str, Any]:
    """An operation answering ``status`` with ``response``, and: 401, 403 and 503 always;
    404 under a realm; 400, 413 and 415 when it reads a body; and its own ``errors``."""
    schema = {"type": "array", "items": _ref(response)} if many and response else \
        _ref(response) if response else None
    ok = {"description": summary, **(_json(schema) if schema else {}), **({"headers": headers} if headers else {})}
    codes = {"401", "403", "503", *errors.split(), *(["404"] if "realm" in params else []),
             *(["400", "413", "415"] if body else [])}
    operation: dict[str, Any] = {
        "summary": summary, "tags": [tag], "operationId": f"{tag}_{summary}".replace(" ", "_"),
        "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in params],
        "responses": {status: ok, **{code: ERRORS[code] for code in sorted(codes)}},
    }
    if body:
        operation["requestBody"] = {"required": not optional_body, **_json(_ref(body))}
    return operation


NEXT_PAGE = {"Link": {"description": 'RFC 8288 <…>; rel="next": this request with the next page\'s cursor, '
                               "while more pages follow", "required": False, "schema": STR}}


def _list(summary: str, tag: str, response: str, params: tuple[str, ...] = ("realm",),
          limit: str = "limit", filters: tuple[str, ...] = ()) -> dict[str, Any]:
    """A paged list: ``limit`` and ``cursor``, its filters, 400 for a bad one, ``Link`` to the next page."""
    return _op(summary, tag, response, many=True, params=(*params, limit, "cursor", *filters), errors="400",
               headers=NEXT_PAGE)


CLIENT = ("realm", "client_id")
IDP = ("realm", "name")
USER = ("realm", "user")
BACKEND = ("realm", "audience")
WEBHOOK = ("realm", "subscription_id")
DELIVERY = ("realm", "delivery_id")
R = "/admin/realms/{realm}"
PATHS: dict[str, Any] = {
    "/admin/realms": {
        "get": _list("list realms", "realms", "Realm", params=()),
        "post": _op("create realm", "realms", "Realm", "201", body="RealmCreate", params=(), errors="409"),
    },
    "/admin/realms/{realm_name}": {
        "get": _op("show realm", "realms", "RealmDetail", params=("realm_name",), errors="404"),
        "patch": _op("update realm", "realms", "Realm", body="RealmUpdate", params=("realm_name",), errors="404"),
        "delete": _op("delete realm", "realms", status="204", params=("realm_name",), errors="404 409"),
    },
    f"{R}/clients": {
        "get": _list("list clients", "clients", "Client", filters=("auth_method", "client_disabled")),
        "post": _op("create client", "clients", "IssuedClient", "201", body="ClientCreate", errors="409",
                    headers=NO_STORE),
    },
    f"{R}/clients/{{client_id}}": {
        "get": _op("show client", "clients", "Client", params=CLIENT),
        "patch": _op("update client", "clients", "Client", body="ClientUpdate", params=CLIENT, errors="409"),
        "delete": _op("delete client", "clients", status="204", params=CLIENT, errors="409"),
    },
    f"{R}/clients/{{client_id}}/rotate-secret": {"post": _op(
        "rotate secret", "clients", "IssuedClient", body="RotateSecret", params=CLIENT, optional_body=True,
        headers=NO_STORE)},
    f"{R}/clients/{{client_id}}/disable": {"post": _op("disable client", "clients", "Client", params=CLIENT)},
    f"{R}/clients/{{client_id}}/enable": {"post": _op("enable client", "clients", "Client", params=CLIENT)},
    f"{R}/clients/{{client_id}}/revoke-tokens": {"post": _op(
        "revoke client tokens", "clients", "Client", params=CLIENT)},
    f"{R}/idps": {
        "get": _list("list idps", "idps", "IdentityProvider", filters=("idp_type", "idp_disabled")),
        "post": _op("create idp", "idps", "IssuedIdentityProvider", "201", body="IdentityProviderCreate",
                    errors="409", headers=NO_STORE),
    },
    f"{R}/idps/{{name}}": {
        "get": _op("show idp", "idps", "IdentityProvider", params=IDP),
        "patch": _op("update idp", "idps", "IssuedIdentityProvider", body="IdentityProviderUpdate", params=IDP,
                     errors="409", headers=NO_STORE),
        "delete": _op("delete idp", "idps", status="204", params=IDP),
    },
    f"{R}/idps/{{name}}/test": {"post": _op("test idp connection", "idps", "IdpProbe", many=True, params=IDP)},
    f"{R}/users": {"get": _list("list users", "users", "User", limit="user_limit",
                                filters=("user_id", "email", "_id", "user_state"))},
    f"{R}/users/{{user}}": {"get": _op("show user", "users", "User", params=USER),
                            "delete": _op("delete user", "users", status="204", params=USER)},
    f"{R}/users/{{user}}/disable": {"post": _op("disable user", "users", "User", params=USER, errors="400")},
    f"{R}/users/{{user}}/enable": {"post": _op("enable user", "users", "User", params=USER, errors="400")},
    f"{R}/users/{{user}}/revoke-tokens": {"post": _op("revoke user tokens", "users", "User", params=USER)},
    f"{R}/users/{{user}}/console-role": {"put": _op("set console role", "users", "ConsoleRole",
                                                    body="ConsoleRoleUpdate", params=USER)},
    f"{R}/usage": {"get": _op("monthly usage", "usage", "UsageReport", params=("realm", "month"), errors="400")},
    f"{R}/initial-tokens": {"post": _op(
        "create initial access token", "clients", "InitialToken", "201", body="InitialTokenRequest",
        optional_body=True, headers=NO_STORE)},
    f"{R}/backends": {
        "get": _list("list backends", "backends", "Backend", filters=("profile",)),
        "post": _op("create backend", "backends", "Backend", "201", body="BackendCreate", errors="409"),
    },
    f"{R}/backends/{{audience}}": {
        "get": _op("show backend", "backends", "Backend", params=BACKEND),
        "patch": _op("update backend", "backends", "Backend", body="BackendUpdate", params=BACKEND, errors="409"),
        "delete": _op("delete backend", "backends", status="204", params=BACKEND, errors="409"),
    },
    f"{R}/audit": {"get": _list("list audit events", "audit", "AuditEvent",
                                filters=("action", "actor", "target_type", "target_id"))},
    f"{R}/keys": {"get": _list("list keys", "keys", "SigningKey", filters=("key_state",))},
    f"{R}/keys/rotate": {"post": _op("rotate keys", "keys", "SigningKey", "201", body="KeyRotate",
                                     optional_body=True, errors="409")},
    f"{R}/keys/{{kid}}/retire-now": {"post": _op("retire key now", "keys", "KeyRetirement", params=("realm", "kid"),
                                                 errors="409")},
    f"{R}/keys/cancel-rotation": {"post": _op("cancel rotation", "keys", "SigningKey", errors="409")},
    f"{R}/webhooks": {
        "get": _list("list webhooks", "webhooks", "Webhook", filters=("enabled",)),
        "post": _op("create webhook", "webhooks", "IssuedWebhook", "201", body="WebhookCreate",
                    headers=NO_STORE),
    },
    f"{R}/webhooks/{{subscription_id}}": {
        "get": _op("show webhook", "webhooks", "Webhook", params=WEBHOOK),
        "patch": _op("update webhook", "webhooks", "Webhook", body="WebhookUpdate", params=WEBHOOK),
        "delete": _op("delete webhook", "webhooks", status="204", params=WEBHOOK),
    },
    f"{R}/webhooks/{{subscription_id}}/rotate-secret": {"post": _op(
        "rotate webhook secret", "webhooks", "IssuedWebhook", body="WebhookRotate", params=WEBHOOK,
        optional_body=True, headers=NO_STORE)},
    f"{R}/webhooks/{{subscription_id}}/test": {"post": _op(
        "queue test event", "webhooks", "Delivery", "202", params=WEBHOOK)},
    f"{R}/webhooks/{{subscription_id}}/deliveries": {"get": _list(
        "list webhook deliveries", "webhooks", "Delivery", params=WEBHOOK, filters=("state",))},
    f"{R}/webhook-deliveries": {"get": _list("list deliveries", "webhooks", "Delivery", filters=("state",))},
    f"{R}/webhook-deliveries/{{delivery_id}}": {"get": _op("show delivery", "webhooks", "Delivery",
                                                           params=DELIVERY)},
    f"{R}/webhook-deliveries/{{delivery_id}}/replay": {"post": _op(
        "replay delivery", "webhooks", "Delivery", "202", many=True, params=DELIVERY, errors="409")},
    f"{R}/events/{{event_id}}/replay": {"post": _op(
        "replay event", "webhooks", "Delivery", "202", body="EventReplay", many=True, params=("realm", "event_id"),
        optional_body=True, errors="409")},
    f"{R}/explain": {"post": _op("explain token exchange", "explain", "Explanation", body="ExplainRequest")},
    "/admin/openapi.json": {"get": {
        "summary": "this document", "tags": ["meta"], "operationId": "openapi", "security": [],
        "responses": {"200": {"description": "OpenAPI 3.1 document", **_json(OBJECT)}}}},
}


def _param(name: str, description: str, where: str = "path", schema: dict | None = None) -> dict:
    return {"name": name, "in": where, "required": where == "path", "description": description,
            "schema": schema or STR}


def _limit(default: int, maximum: int) -> dict[str, Any]:
    return _param("limit", "How many to return, at most (given at most once)", "query",
                  {"type": "integer", "minimum": 1, "maximum": maximum, "default": default})


def _filter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return _param(name, f"Only {description} (given at most once)", "query", schema)


def _text(max_length: int) -> dict[str, Any]:
    """:func:`authserver.registry.paging.text_filter`: printable, 1 to ``max_length`` characters."""
    return {"type": "string", "minLength": 1, "maxLength": max_length, "pattern": "^[^\\x00-\\x1f\\x7f]+$"}


PARAMETERS: dict[str, Any] = {
    "realm": _param("realm", "Realm name"),
    "realm_name": _param("realm_name", "Realm name (only ADMIN_REALM tokens administer realms)"),
    "kid": _param("kid", "Key id (RFC 7638 thumbprint, as in the JWKS)"),
    "client_id": _param("client_id", "Client identifier"),
    "audience": _param("audience", "Chat backend audience (may contain '/')"),
    "name": _param("name", "Identity provider connection name"),
    "user": _param("user", "The user's _id or user_id"),
    "subscription_id": _param("subscription_id", "Webhook subscription id (wh_…)"),
    "delivery_id": _param("delivery_id", "Webhook delivery id (dlv_…)"),
    "event_id": _param("event_id", "Event id (evt_…), the webhook-id receivers saw"),
    "month": _param("month", "YYYY-MM; absent or empty: this month (given at most once)", "query",
                    {"type": "string", "pattern": "^(?:[0-9]{4}-(?:0[1-9]|1[0-2]))?$"}),
    "state": _param("state", "Only deliveries in this state (given at most once)", "query", enum(*DELIVERY_STATES)),
    "limit": _limit(DEFAULT_LIMIT, MAX_LIMIT),
    "user_limit": _limit(users.DEFAULT_LIMIT, users.MAX_LIMIT),
    "cursor": _param("cursor", "Where the page starts: the cursor in the previous page's Link header "
                     "(absent: the first page)", "query", {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,512}$"}),
    "auth_method": _filter("auth_method", "clients of this authentication method", enum(*AUTH_METHODS)),
    "client_disabled": _filter("disabled", "disabled (true) or enabled (false) clients", BOOL),
    "idp_type": _filter("type", "connections of this connector", _text(64)),
    "idp_disabled": _filter("disabled", "disabled (true) or enabled (false) connections", BOOL),
    "profile": _filter("profile", "chat backends of this token profile", _text(64)),
    "user_id": _filter("user_id", "the user with this user_id", _text(255)),
    "email": _filter("email", "users with this email, in any case", _text(320)),
    "_id": _filter("_id", "the user with this _id", _text(32)),
    "user_state": _filter("state", "users in this state", enum(*users.STATES)),
    "key_state": _filter("state", "keys in this state", enum(*(s.value for s in KeyState))),
    "action": _filter("action", "entries of this action (client.create, user.delete…)", _text(64)),
    "actor": _filter("actor", "changes by this actor (cli, client:<client_id>, …)", _text(200)),
    "target_type": _filter("target_type", "changes to this kind of object (client, user, key…)", _text(32)),
    "target_id": _filter("target_id", "changes to this object (its client_id, _id, kid…)", _text(255)),
    "enabled": _filter("enabled", "enabled (true) or paused (false) subscriptions", BOOL),
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "authserver admin API", "version": __version__,
                 "description": "Bearer: an RFC 9068 access token from the client credentials grant "
                                "of a client holding scope 'admin' (see `authserver admin bootstrap`)."},
        "security": [{"bearerAuth": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": schemas(),
            "parameters": PARAMETERS,
        },
    }


@blueprint.get("/openapi.json")
def openapi_document():
    return jsonify(document())
