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
CLIENT = {**CLIENT_FIELDS, "client_id": STR, "auth_method": AUTH_METHOD, "public": BOOL,
          "scopes": STRINGS, "disabled": BOOL, "created_at": INT, "updated_at": INT}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"],
              "properties": {"error": STR, "error_description": STR}},
    "Realm": _obj({"name": STR, "created_at": INT}),
    "RealmCreate": _obj({"name": STR, "alg": {"enum": ["ES256", "RS256", "EdDSA"]}}, ("name",)),
    "Client": _obj(CLIENT),
    "IssuedClient": {"allOf": [_ref("Client")], "description": "client_secret is shown only here",
                     "properties": {"client_secret": STR}},
    "ClientCreate": _obj({**CLIENT_FIELDS, "client_id": STR, "auth_method": AUTH_METHOD}, ("name",)),
    "ClientUpdate": _obj({**CLIENT_FIELDS, "disabled": BOOL}),
    "RotateSecret": _obj({"grace_seconds": {"type": "integer", "minimum": 0, "maximum": 2592000}}),
    "Backend": _obj({**BACKEND_FIELDS, "audience": STR, "scopes": STRINGS,
                     "default_scopes": STRINGS, "credential_set": BOOL, "created_at": INT,
                     "updated_at": INT}),
    "BackendCreate": _obj({**BACKEND_FIELDS, "audience": STR}, ("audience",)),
    "BackendUpdate": _obj(BACKEND_FIELDS),
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
            "limit": _param("limit", "Most recent events to return", "query",
                            {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}),
        },
    },
}


@blueprint.get("/openapi.json")
def openapi_document():
    return jsonify(DOCUMENT)
