"""JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the admin API's bodies.

Request schemas say what the services accept, built from the very patterns, choices and
limits they validate with, and from the live application (installed connectors and token
profiles, configured lifetimes): a body the schema refuses, the API refuses too. What a
schema cannot say (a scope offered by no audience, a connector's own settings) is the
service's to refuse with 400. Response schemas are closed: a member the document does not
name is a bug in the one or the other.
"""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from authserver.config import SIGNING_ALGORITHMS
from authserver.events.outbox import EVENT_TYPES
from authserver.grants import explanation as explain
from authserver.models.client import AUTH_METHODS
from authserver.models.console import CONSOLE_ROLES
from authserver.models.event import DELIVERY_STATES
from authserver.models.idp import PROVISIONING, TRUST_LEVELS
from authserver.models.signing_key import KeyState
from authserver.plugin_host.loader import connector_names, profile_names
from authserver.registry import clients, validation
from authserver.registry.idps import IDP_NAME
from authserver.registry.realms import COUNTED, REALM_NAME
from authserver.registry.registration import MAX_INITIAL_TOKEN_TTL

#: What ``str.split()`` and ``str.strip()`` take for white space, as a regex class body.
PY_SPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
TOKEN_CHARS = r"\x21\x23-\x5b\x5d-\x7e"  # RFC 6749 §3.3 scope-token
MAX_OVERLAP_SECONDS = 30 * 86400  # rotate-secret grace periods

STR, INT, BOOL, OBJECT = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "object"}
STRINGS = {"type": "array", "items": STR}
NULLABLE_STR, NULLABLE_INT = {"type": ["string", "null"]}, {"type": ["integer", "null"]}
NULLABLE_OBJECT = {"type": ["object", "null"]}


def text(max_length: int, nullable: bool = False) -> dict[str, Any]:
    """:func:`validation.text`: a string with a non-blank character, at most ``max_length``."""
    return {"type": ["string", "null"] if nullable else "string", "maxLength": max_length,
            "pattern": f"[^{PY_SPACE}]"}


def string_list(items: dict[str, Any] | None = None) -> dict[str, Any]:
    """:func:`validation.string_list`: null (none) or a list of non-empty strings."""
    return {"type": ["array", "null"], "items": items or {"type": "string", "minLength": 1}}


def ecma(regex: re.Pattern[str]) -> str:
    """A service's regex as ECMA-262, the dialect of JSON Schema: Python's end of input ``\\Z``
    is ECMA's ``$`` (which, unlike Python's, never matches before a final newline)."""
    return re.sub(r"(?<!\\)\\Z$", "$", regex.pattern)


def enum(*values: Any) -> dict[str, Any]:
    return {"enum": list(values)}


def words(choices: list[str], description: str) -> dict[str, Any]:
    """A list of ``choices``, or the same as one string separated by white space, or null."""
    one = "(?:" + "|".join(c.replace(".", r"\.").replace("*", r"\*") for c in choices) + ")"
    return {"oneOf": [
        {"type": "string", "pattern": f"^[{PY_SPACE}]*(?:{one}(?:[{PY_SPACE}]+{one})*)?[{PY_SPACE}]*$",
         "description": description + ", separated by white space"},
        {"type": "array", "items": enum(*choices)}, {"type": "null"}]}


def closed(properties: dict[str, Any], required: tuple[str, ...] | str = ()) -> dict[str, Any]:
    """An object with only these members; ``required="all"`` when every one is always there."""
    names = list(properties) if required == "all" else list(required)
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if names:
        schema["required"] = names
    return schema


def issued(properties: dict[str, Any], secret: str, description: str) -> dict[str, Any]:
    """A response object plus the secret it carries this once."""
    return {**closed({**properties, secret: STR}, tuple(properties)), "description": description}


def _any_case(word: str) -> str:
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else "\\" + c if c == "*" else c for c in word)


SCOPES_IN = {"oneOf": [
    {"type": "string", "pattern": f"^[{TOKEN_CHARS}{PY_SPACE}]*$",
     "description": "RFC 6749 §3.3 scope tokens separated by white space"},
    {"type": "array", "items": {"type": "string", "pattern": ecma(validation.SCOPE_TOKEN)}},
    {"type": "null"}]}
JWKS_IN = {"type": ["object", "null"], "description": "RFC 7517 JWK Set of public keys",
           "required": ["keys"], "properties": {"keys": {"type": "array", "minItems": 1, "items": OBJECT}}}
JWKS_OUT = {"type": ["object", "null"], "properties": {"keys": {"type": "array", "items": OBJECT}}}
ACL_RULE = closed({"path": {"type": "string", "pattern": "^/", "description": "placeholders: {user_id}, {uid}"},
                   "methods": {"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^(?:" + "|".join(
                       _any_case(m) for m in validation.HTTP_METHODS) + ")$"}},
                   "filters": OBJECT}, ("path",))
ACL_OUT = {"type": ["array", "null"], "items": {"type": "object", "required": ["path"], "properties": {
    "path": STR, "methods": STRINGS, "filters": OBJECT}}}
ALG = {**enum(*SIGNING_ALGORITHMS, None), "description": "null or absent: the server's default"}
SIGNING_KEY = closed({"kid": STR, "alg": enum(*SIGNING_ALGORITHMS), "state": enum(*(s.value for s in KeyState)),
                      "created_at": INT, "activates_at": INT, "retired_at": NULLABLE_INT,
                      "remove_after": NULLABLE_INT}, "all")
REALM = {"name": STR, "display_name": NULLABLE_STR, "created_at": INT, "updated_at": NULLABLE_INT}
CLIENT = {"client_id": STR, "name": STR, "auth_method": enum(*AUTH_METHODS), "public": BOOL,
          "grant_types": {"type": "array", "items": enum(*clients.GRANT_TYPES)}, "audiences": STRINGS,
          "scopes": STRINGS, "idps": STRINGS, "redirect_uris": STRINGS, "serves": STRINGS, "jwks": JWKS_OUT,
          "jwks_uri": NULLABLE_STR, "allow_anonymous": BOOL, "allow_delegation": BOOL, "disabled": BOOL,
          "post_logout_redirect_uris": STRINGS, "application_type": enum(*clients.APPLICATION_TYPES),
          "require_par": BOOL, "refresh_token_ttl": NULLABLE_INT, "refresh_token_absolute_ttl": NULLABLE_INT,
          "created_at": INT, "updated_at": INT}
CLIENT_IN = {"name": text(100), "grant_types": string_list(enum(*clients.GRANT_TYPES)),
             "audiences": string_list(), "scopes": SCOPES_IN, "idps": string_list(),
             "redirect_uris": string_list(), "jwks": JWKS_IN,
             "serves": {**string_list(), "description": "chat backends this client is (introspects, re-exchanges)"},
             "jwks_uri": {"description": "an absolute https URL (http only on loopback); empty or null: none"},
             "allow_anonymous": BOOL, "allow_delegation": BOOL,
             "post_logout_redirect_uris": string_list(), "application_type": enum(*clients.APPLICATION_TYPES),
             "require_par": BOOL,
             "refresh_token_ttl": {"type": ["integer", "null"], "minimum": 60, "maximum": 10 ** 8},
             "refresh_token_absolute_ttl": {"type": ["integer", "null"], "minimum": 60, "maximum": 10 ** 8}}
BACKEND = {"audience": STR, "scopes": STRINGS, "default_scopes": STRINGS, "acl_template": ACL_OUT,
           "profile": STR, "credential_set": BOOL, "token_ttl": INT, "created_at": INT, "updated_at": INT}
IDP = {"name": STR, "type": STR, "trust": enum(*TRUST_LEVELS), "user_id_claim": STR,
       "provisioning": enum(*PROVISIONING), "claim_mapping": {"type": "object", "additionalProperties": STR},
       "config": OBJECT, "client_id": NULLABLE_STR, "shared_secret_set": BOOL, "disabled": BOOL,
       "upstream_client_id": NULLABLE_STR, "upstream_auth_method": NULLABLE_STR, "upstream_scope": NULLABLE_STR,
       "upstream_secret_set": BOOL, "created_at": INT, "updated_at": INT}
IDP_IN = {"trust": enum(*TRUST_LEVELS), "user_id_claim": text(255), "provisioning": enum(*PROVISIONING),
          "claim_mapping": {"type": "object", "additionalProperties": STR},
          "config": {"type": "object", "description": "the connector's settings, checked by the connector"},
          "client_id": text(64, nullable=True),
          "shared_secret": {"type": ["boolean", "null"], "writeOnly": True, "description":
                            "backend_assertion: true generates an HS256 secret (shown once), false drops it"},
          "upstream_client_id": text(255, nullable=True),
          "upstream_auth_method": enum("client_secret_basic", "client_secret_post", "private_key_jwt", "none", None),
          "upstream_scope": text(1000, nullable=True),
          "upstream_secret": {"type": ["string", "null"], "writeOnly": True, "maxLength": 16384, "description":
                              "browser login: the upstream client secret, or the private JWK (JSON) for "
                              "private_key_jwt; sealed at rest, never shown; null removes it"}}
USER = {"_id": STR, "user_id": NULLABLE_STR, "identified": BOOL, "verified": BOOL, "given_name": NULLABLE_STR,
        "family_name": NULLABLE_STR, "name": NULLABLE_STR, "email": NULLABLE_STR, "picture": NULLABLE_STR,
        "custom": NULLABLE_OBJECT, "unverified": NULLABLE_OBJECT, "workspaces": STRINGS,
        "state": enum("active", "disabled", "merged"), "merged_into": NULLABLE_STR, "created_at": INT,
        "last_seen_at": NULLABLE_INT}
WEBHOOK = {"id": STR, "realm": STR, "url": STR, "events": STRINGS, "description": NULLABLE_STR,
           "enabled": BOOL, "previous_secret_expires_at": NULLABLE_INT, "created_at": INT, "updated_at": INT}
WEBHOOK_IN = {"url": {"type": "string", "minLength": 1, "maxLength": 2048, "pattern": "^[^ \\t\\r\\n]*$",
                      "description": "an absolute http(s) URL to a public address"},
              "events": words([*EVENT_TYPES, *sorted({t.split(".")[0] + ".*" for t in EVENT_TYPES})],
                              "event types or noun.*; empty: every type"),
              "description": text(200, nullable=True), "enabled": BOOL}
ATTEMPT = closed({"attempted_at": INT, "duration_ms": INT, "result": enum("delivered", "failed", "refused", "timeout"),
                  "status_code": NULLABLE_INT, "error": NULLABLE_STR, "response_excerpt": NULLABLE_STR}, "all")
DELIVERY = {"id": STR, "subscription": STR, "event": STR, "type": STR, "state": enum(*DELIVERY_STATES),
            "attempts": INT, "next_attempt_at": INT, "created_at": INT, "finished_at": NULLABLE_INT,
            "last_status": NULLABLE_INT, "last_error": NULLABLE_STR, "replay_of": NULLABLE_STR}

#: ``POST …/explain``: the token endpoint's parameters (:mod:`authserver.grants.explain`), strings
#: without control characters; empty or null is absent, as in a form.
EXPLAIN_TEXT = {"type": ["string", "null"], "pattern": "^[^\\x00-\\x1f\\x7f]*$"}
EXPLAIN_IN = {name: {**EXPLAIN_TEXT, "type": "string", "minLength": 1} for name in explain.REQUIRED} | \
    {name: EXPLAIN_TEXT for name in explain.OPTIONAL}
NULLABLE_STRINGS = {"type": ["array", "null"], "items": STR}


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


EXPLANATION = {
    "verdict": enum("issue", "refuse"), "failed_step": NULLABLE_STR, "error": NULLABLE_STR,
    "error_description": NULLABLE_STR, "client_id": STR,
    "steps": {"type": "array", "items": closed({"name": STR, "ok": BOOL, "detail": STR}, "all")},
    "connection": NULLABLE_STR,
    "connections": {"type": "array", "items": closed({"name": STR, "type": NULLABLE_STR, "result": enum(
        *explain.CONNECTION_RESULTS), "detail": STR}, "all")},
    "audience": nullable(closed({"requested": NULLABLE_STR, "client": STRINGS, "resolved": NULLABLE_STR}, "all")),
    "profile": nullable(closed({"name": STR, "issued_token_type": STR}, "all")),
    "scopes": nullable(closed({"requested": NULLABLE_STRINGS, "client": STRINGS, "backend": STRINGS,
                               "backend_defaults": STRINGS, "held": NULLABLE_STRINGS,
                               "granted": NULLABLE_STRINGS}, "all")),
    "identity": nullable(closed({"outcome": enum(*explain.OUTCOMES.values(), "refused"), "rule": STR,
                                 "steps": STRINGS, "user": nullable(closed({"_id": STR, "user_id": NULLABLE_STR},
                                                                           "all"))}, "all")),
    "token": nullable(closed({"header": OBJECT, "claims": OBJECT, "issued_token_type": STR,
                              "signed": enum(False)}, "all")),
}


def schemas() -> dict[str, Any]:
    """Every schema, for the live application."""
    backend_in = {"scopes": SCOPES_IN, "default_scopes": SCOPES_IN,
                  "acl_template": {"type": ["array", "null"], "minItems": 1, "items": ACL_RULE},
                  "profile": enum(*profile_names()),
                  "credential": {"type": ["object", "null"], "writeOnly": True, "description":
                                 "the token profile's vendor credential; checked by the profile, stored "
                                 "encrypted, never returned (responses say only credential_set)"},
                  "token_ttl": {"type": "integer", "minimum": 1,
                                "maximum": current_app.config["MAX_TOKEN_LIFETIME"]}}
    return {
        "Error": closed({"error": STR, "error_description": STR}, "all"),
        "Realm": closed(REALM, "all"),
        "RealmDetail": closed({**REALM, "admin_realm": BOOL, "counts": closed(
            {noun: INT for noun in COUNTED}, "all")}, "all"),
        "RealmUpdate": closed({"display_name": text(100, nullable=True)}),
        "RealmCreate": closed({"name": {"type": "string", "pattern": ecma(REALM_NAME)}, "alg": ALG}, ("name",)),
        "Client": closed(CLIENT, "all"),
        "IssuedClient": issued(CLIENT, "client_secret", "client_secret (secret-based methods) is shown only here"),
        "ClientCreate": closed({**CLIENT_IN, "auth_method": enum(*AUTH_METHODS), "client_id": {
            "type": ["string", "null"], "pattern": ecma(clients.CLIENT_ID)}}, ("name",)),
        "ClientUpdate": closed({**CLIENT_IN, "disabled": BOOL}),
        "RotateSecret": closed({"grace_seconds": {"type": "integer", "minimum": 0, "maximum": MAX_OVERLAP_SECONDS}}),
        "Backend": {**closed({**BACKEND, "profile_info": {"type": "object", "description": (
            "the profile's public facts (matrix: public_key PEM and a jwt_config snippet)")}}, tuple(BACKEND))},
        "BackendCreate": closed({**backend_in, "audience": {"type": "string",
                                                            "pattern": ecma(validation.IDENTIFIER)}},
                                ("audience",)),
        "BackendUpdate": closed({**backend_in, "rotate_key": {"type": "boolean", "writeOnly": True, "description":
                                 "profiles with a server-generated key (matrix): a new key, other settings kept"}}),
        "IdentityProvider": closed(IDP, "all"),
        "IssuedIdentityProvider": issued(IDP, "shared_secret", "shared_secret: only when this request generated it"),
        "IdentityProviderCreate": closed({**IDP_IN, "name": {"type": "string", "pattern": ecma(IDP_NAME)},
                                          "type": enum(*connector_names())}, ("name", "type")),
        "IdentityProviderUpdate": closed({**IDP_IN, "disabled": BOOL}),
        "User": closed(USER, "all"),
        "ConsoleRole": closed({"_id": STR, "user_id": NULLABLE_STR, "console_role": {
            "enum": [*CONSOLE_ROLES, None]}}, "all"),
        "ConsoleRoleUpdate": closed({"role": {"enum": [*CONSOLE_ROLES, None],
                                              "description": "admin, viewer, or null: no console access"}},
                                    ("role",)),
        "IdpProbe": closed({"what": STR, "ok": BOOL, "detail": STR}, "all"),
        "UsageReport": closed({"realm": STR, "month": STR, "active_users": INT, "identified_users": INT,
                               "anonymous_users": INT, "by_client_and_idp": {"type": "array", "items": closed(
                                   {"client_id": STR, "idp": STR, "anonymous": BOOL, "users": INT}, "all")}}, "all"),
        "InitialTokenRequest": closed({"ttl": {"type": ["integer", "null"], "minimum": 60,
                                               "maximum": MAX_INITIAL_TOKEN_TTL}}),
        "InitialToken": closed({"id": INT, "initial_access_token": STR, "expires_at": INT, "expires_in": INT}, "all"),
        "AuditEvent": closed({"id": INT, "at": INT, "actor": STR, "action": STR, "target_type": STR,
                              "target_id": STR, "before": NULLABLE_OBJECT, "after": NULLABLE_OBJECT}, "all"),
        "SigningKey": SIGNING_KEY,
        "KeyRotate": closed({"alg": ALG}),
        "KeyRetirement": closed({"retired": SIGNING_KEY, "activated": {
            "anyOf": [SIGNING_KEY, {"type": "null"}],
            "description": "the key signing from now on, when the retired key was the active one"}}, "all"),
        "Webhook": closed(WEBHOOK, "all"),
        "IssuedWebhook": issued(WEBHOOK, "secret", "secret (whsec_…) is shown only here"),
        "WebhookCreate": closed(WEBHOOK_IN, ("url",)),
        "WebhookUpdate": closed(WEBHOOK_IN),
        "WebhookRotate": closed({"overlap_seconds": {"type": ["integer", "null"], "minimum": 0,
                                                     "maximum": MAX_OVERLAP_SECONDS,
                                                     "description": "null: WEBHOOK_SECRET_OVERLAP_SECONDS"}}),
        "Delivery": closed({**DELIVERY, "attempt_log": {"type": "array", "items": ATTEMPT}}, tuple(DELIVERY)),
        "EventReplay": closed({"subscription": {**NULLABLE_STR, "description": "only to this subscription"}}),
        "ExplainRequest": closed(EXPLAIN_IN, explain.REQUIRED),
        "Explanation": closed(EXPLANATION, "all"),
    }
