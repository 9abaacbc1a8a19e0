"""RFC 8414 authorization server metadata and OpenID Connect Discovery 1.0, per realm.

Computed from the live server (its registered grants and endpoints) and configuration,
so the document cannot advertise what does not exist.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from authserver.browser.authorization import OIDC_SCOPES, PROMPTS, RESPONSE_MODES
from authserver.client_auth import PRIVATE_KEY_JWT
from authserver.config import SIGNING_ALGORITHMS
from authserver.plugin_api import ASYMMETRIC_ALGORITHMS
from authserver.registry.realms import get_realm
from authserver.registry.urls import realm_issuer

blueprint = Blueprint("discovery", __name__)


@blueprint.get("/realms/<realm>/.well-known/openid-configuration")
def openid_configuration(realm: str):
    return _metadata_response(realm)


@blueprint.get("/.well-known/oauth-authorization-server/realms/<realm>")
def oauth_authorization_server(realm: str):
    return _metadata_response(realm)


def _metadata_response(realm_name: str):
    get_realm(realm_name)
    response = jsonify(realm_metadata(realm_name))
    response.headers["Cache-Control"] = f"public, max-age={current_app.config['JWKS_MAX_AGE']}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # public metadata, read by browser apps
    return response


def realm_metadata(realm_name: str) -> dict:
    issuer = realm_issuer(realm_name)
    server = current_app.extensions["authserver.oauth2"]
    metadata: dict = {
        "issuer": issuer,
        "jwks_uri": f"{issuer}/jwks",
        "response_types_supported": [],  # without the authorization endpoint: nothing to answer
        "grant_types_supported": server.grant_types,
        "subject_types_supported": ["public"],  # a user's `sub` is the same for every client
    }
    if server.grant_types:
        metadata["token_endpoint"] = f"{issuer}/token"
        metadata["token_endpoint_auth_methods_supported"] = server.token_endpoint_auth_methods
        if PRIVATE_KEY_JWT in server.token_endpoint_auth_methods:  # RFC 8414 §2: required then
            metadata["token_endpoint_auth_signing_alg_values_supported"] = list(ASYMMETRIC_ALGORITHMS)
    for name in server.endpoint_names:
        metadata[f"{name}_endpoint"] = f"{issuer}/{_ENDPOINT_PATHS.get(name, name)}"
    for key, (view, path) in _BLUEPRINT_ENDPOINTS.items():
        if view in current_app.view_functions:
            metadata[key] = f"{issuer}/{path}"
    if "authorize.authorize" in current_app.view_functions:
        metadata.update(_browser_login_metadata())
    return metadata


def _browser_login_metadata() -> dict:
    """OIDC Discovery §3, RFC 9126 §5, RFC 9207 §3, RP-Initiated Logout §2.1: what the
    authorization endpoint and its companions accept."""
    return {
        "response_types_supported": ["code"],
        "response_modes_supported": list(RESPONSE_MODES),
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": list(OIDC_SCOPES),
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "sid", "uid",
                             "name", "given_name", "family_name", "picture", "preferred_username", "email",
                             "email_verified"],
        "id_token_signing_alg_values_supported": list(SIGNING_ALGORITHMS),
        "prompt_values_supported": list(PROMPTS),
        "authorization_response_iss_parameter_supported": True,
        "require_pushed_authorization_requests": False,  # per client: require_par
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,  # only PAR's request_uri (RFC 9126 §4)
        "claims_parameter_supported": False,
    }


# Authlib endpoint name → our path under the realm.
_ENDPOINT_PATHS = {"introspection": "introspect", "revocation": "revoke",
                   "client_registration": "register"}

# Endpoints served by our own blueprints (not Authlib's): metadata key → (view, path).
_BLUEPRINT_ENDPOINTS = {"registration_endpoint": ("registration.register", "register"),
                        "authorization_endpoint": ("authorize.authorize", "authorize"),
                        "pushed_authorization_request_endpoint": ("authorize.pushed_authorization_request", "par"),
                        "userinfo_endpoint": ("userinfo.userinfo", "userinfo"),
                        "end_session_endpoint": ("logout.logout", "logout")}
