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
from authserver.admin.schemas import OBJECT, STR, enum, schemas
from authserver.models.event import DELIVERY_STATES

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


CLIENT = ("realm", "client_id")
IDP = ("realm", "name")
USER = ("realm", "user")
BACKEND = ("realm", "audience")
WEBHOOK = ("realm", "subscription_id")
DELIVERY = ("realm", "delivery_id")
R = "/admin/realms/{realm}"
PATHS: dict[str, Any] = {
    "/admin/realms": {
        "get": _op("list realms", "realms", "Realm", many=True, params=()),
        "post": _op("create realm", "realms", "Realm", "201", body="RealmCreate", params=(), errors="409"),
    },
    "/admin/realms/{realm_name}": {
        "get": _op("show realm", "realms", "RealmDetail", params=("realm_name",), errors="404"),
        "patch": _op("update realm", "realms", "Realm", body="RealmUpdate", params=("realm_name",), errors="404"),
        "delete": _op("delete realm", "realms", status="204", params=("realm_name",), errors="404 409"),
    },
    f"{R}/clients": {
        "get": _op("list clients", "clients", "Client", many=True),
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
        "get": _op("list idps", "idps", "IdentityProvider", many=True),
        "post": _op("create idp", "idps", "IssuedIdentityProvider", "201", body="IdentityProviderCreate",
                    errors="409", headers=NO_STORE),
    },
    f"{R}/idps/{{name}}": {
        "get": _op("show idp", "idps", "IdentityProvider", params=IDP),
        "patch": _op("update idp", "idps", "IssuedIdentityProvider", body="IdentityProviderUpdate", params=IDP,
                     errors="409", headers=NO_STORE),
        "delete": _op("delete idp", "idps", status="204", params=IDP),
    },
    f"{R}/users": {"get": _op("list users", "users", "User", many=True, params=("realm", "user_limit"),
                              errors="400")},
    f"{R}/users/{{user}}": {"get": _op("show user", "users", "User", params=USER),
                            "delete": _op("delete user", "users", status="204", params=USER)},
    f"{R}/users/{{user}}/disable": {"post": _op("disable user", "users", "User", params=USER, errors="400")},
    f"{R}/users/{{user}}/enable": {"post": _op("enable user", "users", "User", params=USER, errors="400")},
    f"{R}/users/{{user}}/revoke-tokens": {"post": _op("revoke user tokens", "users", "User", params=USER)},
    f"{R}/usage": {"get": _op("monthly usage", "usage", "UsageReport", params=("realm", "month"), errors="400")},
    f"{R}/initial-tokens": {"post": _op(
        "create initial access token", "clients", "InitialToken", "201", body="InitialTokenRequest",
        optional_body=True, headers=NO_STORE)},
    f"{R}/backends": {
        "get": _op("list backends", "backends", "Backend", many=True),
        "post": _op("create backend", "backends", "Backend", "201", body="BackendCreate", errors="409"),
    },
    f"{R}/backends/{{audience}}": {
        "get": _op("show backend", "backends", "Backend", params=BACKEND),
        "patch": _op("update backend", "backends", "Backend", body="BackendUpdate", params=BACKEND, errors="409"),
        "delete": _op("delete backend", "backends", status="204", params=BACKEND, errors="409"),
    },
    f"{R}/audit": {"get": _op("list audit events", "audit", "AuditEvent", many=True,
                              params=("realm", "audit_limit"), errors="400")},
    f"{R}/keys": {"get": _op("list keys", "keys", "SigningKey", many=True)},
    f"{R}/keys/rotate": {"post": _op("rotate keys", "keys", "SigningKey", "201", body="KeyRotate",
                                     optional_body=True, errors="409")},
    f"{R}/keys/{{kid}}/retire-now": {"post": _op("retire key now", "keys", "KeyRetirement", params=("realm", "kid"),
                                                 errors="409")},
    f"{R}/keys/cancel-rotation": {"post": _op("cancel rotation", "keys", "SigningKey", errors="409")},
    f"{R}/webhooks": {
        "get": _op("list webhooks", "webhooks", "Webhook", many=True),
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
    f"{R}/webhooks/{{subscription_id}}/deliveries": {"get": _op(
        "list webhook deliveries", "webhooks", "Delivery", many=True, params=(*WEBHOOK, "state", "delivery_limit"),
        errors="400")},
    f"{R}/webhook-deliveries": {"get": _op("list deliveries", "webhooks", "Delivery", many=True,
                                           params=("realm", "state", "delivery_limit"), errors="400")},
    f"{R}/webhook-deliveries/{{delivery_id}}": {"get": _op("show delivery", "webhooks", "Delivery",
                                                           params=DELIVERY)},
    f"{R}/webhook-deliveries/{{delivery_id}}/replay": {"post": _op(
        "replay delivery", "webhooks", "Delivery", "202", many=True, params=DELIVERY, errors="409")},
    f"{R}/events/{{event_id}}/replay": {"post": _op(
        "replay event", "webhooks", "Delivery", "202", body="EventReplay", many=True, params=("realm", "event_id"),
        optional_body=True, errors="409")},
    "/admin/openapi.json": {"get": {
        "summary": "this document", "tags": ["meta"], "operationId": "openapi", "security": [],
        "responses": {"200": {"description": "OpenAPI 3.1 document", **_json(OBJECT)}}}},
}


def _param(name: str, description: str, where: str = "path", schema: dict | None = None) -> dict:
    return {"name": name, "in": where, "required": where == "path", "description": description,
            "schema": schema or STR}


def _limit(default: int, maximum: int) -> dict[str, Any]:
    return _param("limit", "How many to return, most recent first (given at most once)", "query",
                  {"type": "integer", "minimum": 1, "maximum": maximum, "default": default})


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
    "user_limit": _limit(1000, 100000),
    "audit_limit": _limit(100, 1000),
    "delivery_limit": _limit(100, 1000),
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
