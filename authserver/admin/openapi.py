"""OpenAPI 3.1 description of the admin API, served at ``/admin/openapi.json`` (no token
needed: it describes the API and holds no data). A test checks it names every admin route."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify

from authserver import __version__

blueprint = Blueprint("openapi", __name__)

STR, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
STRINGS = {"type": "array", "items": STR}
SCOPES = {"oneOf": [{"type": "string", "description": "space-separated"}, STRINGS]}
GRANT_TYPES = {"type": "array", "items": {"enum": [
    "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"]}}
AUTH_METHOD = {"enum": ["none", "client_secret_basic", "client_secret_post", "private_key_jwt"]}
JWKS = {"type": ["object", "null"], "description": "RFC 7517 JWK Set of public keys",
        "properties": {"keys": {"type": "array", "items": {"type": "object"}}}}
ACL = {"type": ["array", "null"], "items": {"type": "object", "required": ["path"], "properties": {
    "path": STR, "methods": STRINGS, "filters": {"type": "object"}}}}


def _obj(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


CLIENT_FIELDS = {"name": STR, "grant_types": GRANT_TYPES, "audiences": STRINGS, "scopes": SCOPES,
                 "idps": STRINGS, "redirect_uris": STRINGS, "jwks": JWKS,
                 "jwks_uri": {"type": ["string", "null"], "format": "uri"},
                 "allow_anonymous": BOOL, "allow_delegation": BOOL}
BACKEND_FIELDS = {"scopes": SCOPES, "default_scopes": SCOPES, "acl_template": ACL, "profile": STR,
                  "token_ttl": INT}
CREDENTIAL = {"type": "object", "writeOnly": True, "description":
              "The token profile's vendor credential; checked by the profile, stored encrypted, "
              "never returned (responses say only credential_set)"}
ROTATE_KEY = {"type": "boolean", "writeOnly": True, "description":
              "Profiles with a server-generated key (matrix): a new key, other settings kept"}
PROFILE_INFO = {"type": "object", "readOnly": True, "description":
                "The profile's public facts (matrix: public_key PEM and a jwt_config snippet)"}
CLIENT = {**CLIENT_FIELDS, "client_id": STR, "auth_method": AUTH_METHOD, "public": BOOL,
          "scopes": STRINGS, "disabled": BOOL, "created_at": INT, "updated_at": INT}

IDP_FIELDS = {"trust": {"enum": ["verified", "unverified"]}, "user_id_claim": STR,
              "provisioning": {"enum": ["create", "link_verified_email", "existing_only"]},
              "claim_mapping": {"type": "object"}, "config": {"type": "object"},
              "client_id": {"type": ["string", "null"]},
              "shared_secret": {"type": "boolean", "writeOnly": True,
                                "description": "backend_assertion: generate an HS256 secret, shown once"}}
NULLABLE_STR = {"type": ["string", "null"]}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"],
              "properties": {"error": STR, "error_description": STR}},
    "Realm": _obj({"name": STR, "created_at": INT}),
    "IdentityProvider": {"type": "object", "properties": {
        **IDP_FIELDS, "name": STR, "type": STR, "shared_secret_set": BOOL, "disabled": BOOL,
        "created_at": INT, "updated_at": INT}},
    "IdentityProviderCreate": _obj({**IDP_FIELDS, "name": STR, "type": STR}, ("name", "type")),
    "IdentityProviderUpdate": _obj({**IDP_FIELDS, "disabled": BOOL}),
    "User": {"type": "object", "properties": {
        "_id": STR, "user_id": NULLABLE_STR, "identified": BOOL, "verified": BOOL,
        "given_name": NULLABLE_STR, "family_name": NULLABLE_STR, "name": NULLABLE_STR,
        "email": NULLABLE_STR, "picture": NULLABLE_STR, "custom": {"type": ["object", "null"]},
        "unverified": {"type": ["object", "null"]}, "workspaces": STRINGS,
        "state": {"enum": ["active", "disabled", "merged"]}, "merged_into": NULLABLE_STR,
        "created_at": INT, "last_seen_at": {"type": ["integer", "null"]}}},
    "UsageReport": {"type": "object", "properties": {
        "realm": STR, "month": STR, "active_users": INT, "identified_users": INT,
        "anonymous_users": INT, "by_client_and_idp": {"type": "array", "items": {"type": "object"}}}},
    "RealmCreate": _obj({"name": STR, "alg": {"enum": ["ES256", "RS256", "EdDSA"]}}, ("name",)),
    "Client": _obj(CLIENT),
    "IssuedClient": {"allOf": [_ref("Client")], "description": "client_secret is shown only here",
                     "properties": {"client_secret": STR}},
    "ClientCreate": _obj({**CLIENT_FIELDS, "client_id": STR, "auth_method": AUTH_METHOD}, ("name",)),
    "ClientUpdate": _obj({**CLIENT_FIELDS, "disabled": BOOL}),
    "RotateSecret": _obj({"grace_seconds": {"type": "integer", "minimum": 0, "maximum": 2592000}}),
    "Backend": _obj({**BACKEND_FIELDS, "audience": STR, "scopes": STRINGS,
                     "default_scopes": STRINGS, "credential_set": BOOL, "created_at": INT,
                     "updated_at": INT, "profile_info": PROFILE_INFO}),
    "BackendCreate": _obj({**BACKEND_FIELDS, "audience": STR, "credential": CREDENTIAL}, ("audience",)),
    "BackendUpdate": _obj({**BACKEND_FIELDS, "credential": CREDENTIAL, "rotate_key": ROTATE_KEY}),
    "InitialTokenRequest": _obj({"ttl": {"type": "integer", "minimum": 60, "maximum": 2592000}}),
    "InitialToken": _obj({"id": INT, "initial_access_token": STR, "expires_at": INT, "expires_in": INT}),
    "AuditEvent": _obj({"id": INT, "at": INT, "actor": STR, "action": STR, "target_type": STR,
                        "target_id": STR, "before": {"type": ["object", "null"]},
                        "after": {"type": ["object", "null"]}}),
    "SigningKey": _obj({"kid": STR, "alg": STR, "state": {"enum": ["next", "active", "retired"]},
                        "created_at": INT, "activates_at": INT,
                        "retired_at": {"type": ["integer", "null"]},
                        "remove_after": {"type": ["integer", "null"]}}),
    "KeyRotate": _obj({"alg": {"enum": ["ES256", "RS256", "EdDSA"]}}),
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": {"description": "invalid_request: bad input", **_json(_ref("Error"))},
    "401": {"description": "invalid_token: missing, invalid, expired or wrong-realm token",
            **_json(_ref("Error"))},
    "403": {"description": "insufficient_scope: the token lacks scope admin", **_json(_ref("Error"))},
    "404": {"description": "not_found", **_json(_ref("Error"))},
    "409": {"description": "conflict", **_json(_ref("Error"))},
}


def _op(summary: str, tag: str, response: str | None = None, status: str = "200",
        body: str | None = None, many: bool = False, params: tuple[str, ...] = ("realm",),
        optional_body: bool = False) -> dict[str, Any]:
    schema = {"type": "array", "items": _ref(response)} if many and response else \
        _ref(response) if response else None
    ok = {"description": summary, **(_json(schema) if schema else {})}
    operation: dict[str, Any] = {
        "summary": summary, "tags": [tag], "operationId": f"{tag}_{summary}".replace(" ", "_"),
        "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in params],
        "responses": {status: ok, **ERRORS},
    }
    if body:
        operation["requestBody"] = {"required": not optional_body, **_json(_ref(body))}
    return operation


CLIENT_PARAMS = ("realm", "client_id")
IDP_PARAMS = ("realm", "name")
USER_PARAMS = ("realm", "user")
BACKEND_PARAMS = ("realm", "audience")
R = "/admin/realms/{realm}"
PATHS: dict[str, Any] = {
    "/admin/realms": {
        "get": _op("list realms", "realms", "Realm", many=True, params=()),
        "post": _op("create realm", "realms", "Realm", "201", "RealmCreate", params=()),
    },
    f"{R}/clients": {
        "get": _op("list clients", "clients", "Client", many=True),
        "post": _op("create client", "clients", "IssuedClient", "201", "ClientCreate"),
    },
    f"{R}/clients/{{client_id}}": {
        "get": _op("show client", "clients", "Client", params=CLIENT_PARAMS),
        "patch": _op("update client", "clients", "Client", body="ClientUpdate", params=CLIENT_PARAMS),
        "delete": _op("delete client", "clients", status="204", params=CLIENT_PARAMS),
    },
    f"{R}/clients/{{client_id}}/rotate-secret": {"post": _op(
        "rotate secret", "clients", "IssuedClient", body="RotateSecret", params=CLIENT_PARAMS,
        optional_body=True)},
    f"{R}/clients/{{client_id}}/disable": {"post": _op("disable client", "clients", "Client",
                                                        params=CLIENT_PARAMS)},
    f"{R}/clients/{{client_id}}/enable": {"post": _op("enable client", "clients", "Client",
                                                       params=CLIENT_PARAMS)},
    f"{R}/clients/{{client_id}}/revoke-tokens": {"post": _op(
        "revoke client tokens", "clients", "Client", params=CLIENT_PARAMS)},
    f"{R}/idps": {
        "get": _op("list idps", "idps", "IdentityProvider", many=True),
        "post": _op("create idp", "idps", "IdentityProvider", "201", "IdentityProviderCreate"),
    },
    f"{R}/idps/{{name}}": {
        "get": _op("show idp", "idps", "IdentityProvider", params=IDP_PARAMS),
        "patch": _op("update idp", "idps", "IdentityProvider", body="IdentityProviderUpdate",
                     params=IDP_PARAMS),
        "delete": _op("delete idp", "idps", status="204", params=IDP_PARAMS),
    },
    f"{R}/users": {"get": {**_op("list users", "users", "User", many=True),
                           "parameters": [{"$ref": "#/components/parameters/realm"},
                                          {"$ref": "#/components/parameters/limit"}]}},
    f"{R}/users/{{user}}": {"get": _op("show user", "users", "User", params=USER_PARAMS)},
    f"{R}/users/{{user}}/disable": {"post": _op("disable user", "users", "User", params=USER_PARAMS)},
    f"{R}/users/{{user}}/enable": {"post": _op("enable user", "users", "User", params=USER_PARAMS)},
    f"{R}/users/{{user}}/revoke-tokens": {"post": _op("revoke user tokens", "users", "User",
                                                      params=USER_PARAMS)},
    f"{R}/usage": {"get": {**_op("monthly usage", "usage", "UsageReport"),
                           "parameters": [{"$ref": "#/components/parameters/realm"},
                                          {"$ref": "#/components/parameters/month"}]}},
    f"{R}/initial-tokens": {"post": _op(
        "create initial access token", "clients", "InitialToken", "201", "InitialTokenRequest",
        optional_body=True)},
    f"{R}/backends": {
        "get": _op("list backends", "backends", "Backend", many=True),
        "post": _op("create backend", "backends", "Backend", "201", "BackendCreate"),
    },
    f"{R}/backends/{{audience}}": {
        "get": _op("show backend", "backends", "Backend", params=BACKEND_PARAMS),
        "patch": _op("update backend", "backends", "Backend", body="BackendUpdate",
                     params=BACKEND_PARAMS),
        "delete": _op("delete backend", "backends", status="204", params=BACKEND_PARAMS),
    },
    f"{R}/audit": {"get": {**_op("list audit events", "audit", "AuditEvent", many=True),
                           "parameters": [{"$ref": "#/components/parameters/realm"},
                                          {"$ref": "#/components/parameters/limit"}]}},
    f"{R}/keys": {"get": _op("list keys", "keys", "SigningKey", many=True)},
    f"{R}/keys/rotate": {"post": _op("rotate keys", "keys", "SigningKey", "201", "KeyRotate",
                                     optional_body=True)},
    "/admin/openapi.json": {"get": {
        "summary": "this document", "tags": ["meta"], "operationId": "openapi", "security": [],
        "responses": {"200": {"description": "OpenAPI 3.1 document",
                              **_json({"type": "object"})}}}},
}


# --- webhooks (authserver.admin.webhooks) ------------------------------------------------
WEBHOOK_FIELDS = {"url": {"type": "string", "format": "uri"},
                  "events": {**SCOPES, "description": "event types or noun.* (space-separated or a list); "
                                                      "empty: every type"},
                  "description": NULLABLE_STR, "enabled": BOOL}
NULLABLE_INT = {"type": ["integer", "null"]}
ATTEMPT = _obj({"attempted_at": INT, "duration_ms": INT,
                "result": {"enum": ["delivered", "failed", "refused", "timeout"]},
                "status_code": NULLABLE_INT, "error": NULLABLE_STR, "response_excerpt": NULLABLE_STR})
SCHEMAS.update({
    "Webhook": _obj({**WEBHOOK_FIELDS, "id": STR, "realm": STR, "events": STRINGS,
                     "previous_secret_expires_at": NULLABLE_INT, "created_at": INT, "updated_at": INT}),
    "IssuedWebhook": {"allOf": [_ref("Webhook")], "properties": {"secret": STR},
                      "description": "secret (whsec_…) is shown only here"},
    "WebhookCreate": _obj(WEBHOOK_FIELDS, ("url",)),
    "WebhookUpdate": _obj(WEBHOOK_FIELDS),
    "WebhookRotate": _obj({"overlap_seconds": {"type": "integer", "minimum": 0, "maximum": 2592000}}),
    "Delivery": _obj({"id": STR, "subscription": STR, "event": STR, "type": STR,
                      "state": {"enum": ["pending", "delivered", "dead"]}, "attempts": INT,
                      "next_attempt_at": INT, "created_at": INT, "finished_at": NULLABLE_INT,
                      "last_status": NULLABLE_INT, "last_error": NULLABLE_STR, "replay_of": NULLABLE_STR,
                      "attempt_log": {"type": "array", "items": ATTEMPT}}),
    "EventReplay": _obj({"subscription": STR}),
})
WEBHOOK_PARAMS = ("realm", "subscription_id")
DELIVERY_LIST = ("realm", "state", "limit")
PATHS.update({
    f"{R}/webhooks": {
        "get": _op("list webhooks", "webhooks", "Webhook", many=True),
        "post": _op("create webhook", "webhooks", "IssuedWebhook", "201", "WebhookCreate"),
    },
    f"{R}/webhooks/{{subscription_id}}": {
        "get": _op("show webhook", "webhooks", "Webhook", params=WEBHOOK_PARAMS),
        "patch": _op("update webhook", "webhooks", "Webhook", body="WebhookUpdate", params=WEBHOOK_PARAMS),
        "delete": _op("delete webhook", "webhooks", status="204", params=WEBHOOK_PARAMS),
    },
    f"{R}/webhooks/{{subscription_id}}/rotate-secret": {"post": _op(
        "rotate webhook secret", "webhooks", "IssuedWebhook", body="WebhookRotate", params=WEBHOOK_PARAMS,
        optional_body=True)},
    f"{R}/webhooks/{{subscription_id}}/test": {"post": _op(
        "queue test event", "webhooks", "Delivery", "202", params=WEBHOOK_PARAMS)},
    f"{R}/webhooks/{{subscription_id}}/deliveries": {"get": _op(
        "list webhook deliveries", "webhooks", "Delivery", many=True, params=(*WEBHOOK_PARAMS, "state", "limit"))},
    f"{R}/webhook-deliveries": {"get": _op("list deliveries", "webhooks", "Delivery", many=True,
                                           params=DELIVERY_LIST)},
    f"{R}/webhook-deliveries/{{delivery_id}}": {"get": _op(
        "show delivery", "webhooks", "Delivery", params=("realm", "delivery_id"))},
    f"{R}/webhook-deliveries/{{delivery_id}}/replay": {"post": _op(
        "replay delivery", "webhooks", "Delivery", "202", many=True, params=("realm", "delivery_id"))},
    f"{R}/events/{{event_id}}/replay": {"post": _op(
        "replay event", "webhooks", "Delivery", "202", "EventReplay", many=True, params=("realm", "event_id"),
        optional_body=True)},
})

def _param(name: str, description: str, where: str = "path", schema: dict | None = None) -> dict:
    return {"name": name, "in": where, "required": where == "path", "description": description,
            "schema": schema or STR}


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "authserver admin API", "version": __version__,
             "description": "Bearer: an RFC 9068 access token from the client credentials grant "
                            "of a client holding scope 'admin' (see `authserver admin bootstrap`)."},
    "security": [{"bearerAuth": []}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        "schemas": SCHEMAS,
        "parameters": {
            "realm": _param("realm", "Realm name"),
            "client_id": _param("client_id", "Client identifier"),
            "audience": _param("audience", "Chat backend audience (may contain '/')"),
            "name": _param("name", "Identity provider connection name"),
            "user": _param("user", "The user's _id or user_id"),
            "month": _param("month", "YYYY-MM (default: this month)", "query"),
            "limit": _param("limit", "Most recent events to return", "query",
                            {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}),
            "subscription_id": _param("subscription_id", "Webhook subscription id (wh_…)"),
            "delivery_id": _param("delivery_id", "Webhook delivery id (dlv_…)"),
            "event_id": _param("event_id", "Event id (evt_…), the webhook-id receivers saw"),
            "state": _param("state", "Only deliveries in this state", "query",
                            {"enum": ["pending", "delivered", "dead"]}),
        },
    },
}


@blueprint.get("/openapi.json")
def openapi_document():
    return jsonify(DOCUMENT)
