"""The admin API's IdP connections with the browser login's upstream client: the settings go
in, the secret never comes out, bad values are a 400 naming the field, and the OpenAPI
document describes exactly that."""

from __future__ import annotations

import json

import jsonschema_rs
import pytest
import schemathesis
from joserfc.jwk import ECKey

from tests.cli_helpers import admin_token, bearer
from tests.factories import AppBackend, make_backend

BASE = "/admin/realms/default/idps"
SECRET = "upstream-secret-0123456789abcdef"
CONNECTION = {"name": "corp", "type": "oidc",
              "config": {"issuer": "https://login.example.test", "client_ids": ["chat-web", "authserver"]},
              "upstream_client_id": "authserver", "upstream_auth_method": "client_secret_basic",
              "upstream_scope": "openid email", "upstream_secret": SECRET}


@pytest.fixture
def headers(runner, client):
    return bearer(admin_token(runner, client))


def schemas(client) -> dict:
    return client.get("/admin/openapi.json").get_json()["components"]["schemas"]


def test_the_upstream_client_goes_in_and_its_secret_never_comes_out(app, client, headers):
    created = client.post(BASE, headers=headers, json=CONNECTION)
    assert created.status_code == 201, created.get_json()
    assert created.headers["Cache-Control"] == "no-store"
    spec = schemathesis.openapi.from_wsgi("/admin/openapi.json", app)
    spec["/admin/realms/{realm}/idps"]["POST"].validate_response(created)
    shown = client.get(f"{BASE}/corp", headers=headers)
    body = shown.get_json()
    assert (body["upstream_client_id"], body["upstream_auth_method"], body["upstream_scope"],
            body["upstream_secret_set"]) == ("authserver", "client_secret_basic", "openid email", True)
    listed = client.get(BASE, headers=headers)
    audit = client.get("/admin/realms/default/audit", headers=headers)
    for answer in (created, shown, listed, audit):
        assert SECRET not in answer.get_data(as_text=True) and '"upstream_secret"' not in answer.get_data(as_text=True)


def test_an_update_keeps_the_secret_unless_told(client, headers):
    client.post(BASE, headers=headers, json=CONNECTION)
    kept = client.patch(f"{BASE}/corp", headers=headers, json={"upstream_scope": "openid"}).get_json()
    assert kept["upstream_secret_set"] is True and kept["upstream_scope"] == "openid"
    cleared = client.patch(f"{BASE}/corp", headers=headers, json={"upstream_secret": None}).get_json()
    assert cleared["upstream_secret_set"] is False


@pytest.mark.parametrize(("data", "message"), [
    ({"upstream_auth_method": "client_secret_jwt"}, "upstream_auth_method: must be one of client_secret_basic"),
    ({"upstream_client_id": "someone-else"}, "upstream_client_id: also list it among the connection's client ids"),
    ({"upstream_scope": "email"}, "upstream_scope: must include openid"),
    ({"upstream_secret": ["not", "a", "string"]}, "upstream_secret: must be a string"),
    ({"upstream_auth_method": "private_key_jwt"}, "upstream_secret: private_key_jwt needs a private JWK"),
    ({"upstream_auth_method": "private_key_jwt",
      "upstream_secret": json.dumps(ECKey.generate_key("P-256").as_dict(private=False))}, "holds no private key"),
])
def test_bad_values_are_a_400_naming_the_field(client, headers, data, message):
    client.post(BASE, headers=headers, json=CONNECTION)
    answer = client.patch(f"{BASE}/corp", headers=headers, json=data)
    assert answer.status_code == 400, answer.get_json()
    assert answer.get_json()["error"] == "invalid_request" and message in answer.get_json()["error_description"]
    assert client.get(f"{BASE}/corp", headers=headers).get_json()["upstream_auth_method"] == "client_secret_basic"


def test_a_connector_without_browser_login_is_a_400(app, client, headers):
    make_backend(app)
    AppBackend(app)
    answer = client.patch(f"{BASE}/app", headers=headers, json={"upstream_client_id": "x"})
    assert answer.status_code == 400
    assert "cannot run a browser login" in answer.get_json()["error_description"]


def test_the_document_describes_the_settings(client):
    described = schemas(client)
    for name in ("IdentityProviderCreate", "IdentityProviderUpdate"):
        properties = described[name]["properties"]
        assert properties["upstream_secret"]["writeOnly"] is True
        assert set(properties["upstream_auth_method"]["enum"]) == {
            "client_secret_basic", "client_secret_post", "private_key_jwt", "none", None}
        validator = jsonschema_rs.validator_for(described[name])
        named = {"name": "corp", "type": "oidc"} if name.endswith("Create") else {}
        assert validator.is_valid({**named, "upstream_client_id": "authserver", "upstream_auth_method": None,
                                   "upstream_scope": None, "upstream_secret": None})
        assert validator.is_valid({**named, **{k: v for k, v in CONNECTION.items() if k.startswith("upstream_")}})
        assert not validator.is_valid({**named, "upstream_auth_method": "client_secret_jwt"})
    shown = described["IdentityProvider"]["properties"]
    assert "upstream_secret" not in shown and shown["upstream_secret_set"]["type"] == "boolean"
