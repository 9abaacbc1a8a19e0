"""RFC 8414 / OIDC Discovery metadata, per realm, computed from the live server."""

from __future__ import annotations

import pytest

from authserver.plugin_api import ASYMMETRIC_ALGORITHMS


@pytest.mark.parametrize("path", [
    "/realms/default/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server/realms/default",
])
def test_metadata_names_issuer_and_jwks(client, path):
    response = client.get(path)
    assert response.status_code == 200
    metadata = response.get_json()
    assert metadata["issuer"] == "http://auth.test/realms/default"
    assert metadata["jwks_uri"] == "http://auth.test/realms/default/jwks"
    # ID tokens (browser login) are signed with the realm's keys: only their algorithms
    assert set(metadata["id_token_signing_alg_values_supported"]) <= {"ES256", "RS256", "EdDSA"}


def test_metadata_advertises_only_registered_grants(app, client):
    server = app.extensions["authserver.oauth2"]
    metadata = client.get("/realms/default/.well-known/openid-configuration").get_json()
    assert metadata["grant_types_supported"] == server.grant_types
    assert ("token_endpoint" in metadata) == bool(server.grant_types)


def test_issuer_follows_request_host_without_configured_base(make_app):
    from authserver.registry.realms import create_realm

    app = make_app(ISSUER_BASE_URL=None)
    with app.app_context():
        create_realm("chat")
    metadata = app.test_client().get("/realms/chat/.well-known/openid-configuration",
                                      base_url="https://chat.example").get_json()
    assert metadata["issuer"] == "https://chat.example/realms/chat"


def test_unknown_realm_is_404_json(client):
    response = client.get("/realms/missing/.well-known/openid-configuration")
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found", "error_description": "no realm named 'missing'"}


def test_unknown_path_and_wrong_method_answer_json(client):
    assert client.get("/nowhere").get_json()["error"] == "not_found"
    response = client.post("/realms/default/jwks")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"


def test_metadata_has_the_fields_rfc_8414_requires(client):
    metadata = client.get("/realms/default/.well-known/openid-configuration").get_json()
    assert metadata["subject_types_supported"] == ["public"]
    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]
    algs = metadata["token_endpoint_auth_signing_alg_values_supported"]  # §2: required with private_key_jwt
    assert algs == list(ASYMMETRIC_ALGORITHMS)  # exactly what client assertions are checked with
    assert "none" not in algs and not any(alg.startswith("HS") for alg in algs)
