"""``/admin/openapi.json`` describes every admin route (OpenAPI 3.1)."""

from __future__ import annotations

import re

import jsonschema_rs
import schemathesis

from authserver.events.runtime import webhook_runtime
from authserver.plugin_host.loader import connector_names, profile_names
from tests.cli_helpers import admin_token, bearer


def test_every_admin_route_is_described(app, client):
    document = client.get("/admin/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        assert path in document["paths"], path
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in document["paths"][path], f"{method} {path}"


def test_every_described_operation_exists_and_refs_resolve(app, client):
    document = client.get("/admin/openapi.json").get_json()
    rules = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", r.rule), m.lower())
             for r in app.url_map.iter_rules() for m in r.methods}
    text = str(document)
    for path, operations in document["paths"].items():
        for method in operations:
            assert (path, method) in rules, f"{method} {path}"
    for ref in re.findall(r"#/components/(\w+)/(\w+)", text):
        assert ref[1] in document["components"][ref[0]], ref


def _operation(app, path: str, method: str):
    return schemathesis.openapi.from_wsgi("/admin/openapi.json", app)[path][method]


def test_answers_carrying_a_secret_match_the_document(app, runner, client):
    """The document once forbade the very secret these answers exist to show once."""
    headers = bearer(admin_token(runner, client))
    webhook_runtime(app).sender.resolve = lambda host, port: ["93.184.216.34"]
    base, r = "/admin/realms/default", "/admin/realms/{realm}"
    answers = [
        (f"{r}/clients", "POST", client.post(f"{base}/clients", headers=headers,
                                             json={"name": "web", "client_id": "web"})),
        (f"{r}/clients/{{client_id}}/rotate-secret", "POST",
         client.post(f"{base}/clients/web/rotate-secret", headers=headers)),
        (f"{r}/clients", "GET", client.get(f"{base}/clients", headers=headers)),
        (f"{r}/idps", "POST", client.post(f"{base}/idps", headers=headers, json={
            "name": "app", "type": "backend_assertion", "client_id": "web", "shared_secret": True})),
        (f"{r}/idps/{{name}}", "PATCH", client.patch(f"{base}/idps/app", headers=headers,
                                                     json={"shared_secret": True})),
        (f"{r}/webhooks", "POST", client.post(f"{base}/webhooks", headers=headers,
                                              json={"url": "https://hooks.example/in"})),
        (f"{r}/initial-tokens", "POST", client.post(f"{base}/initial-tokens", headers=headers)),
        (f"{r}/clients", "POST", client.post(f"{base}/clients", headers=headers, data=b"{}",
                                             content_type="text/plain")),
        (f"{r}/clients/{{client_id}}", "GET", client.get(f"{base}/clients/nobody", headers=headers)),
        (f"{r}/clients", "GET", client.get(f"{base}/clients")),
    ]
    assert [answer.status_code for *_, answer in answers] == [201, 200, 200, 201, 200, 201, 201, 415, 404, 401]
    for path, method, answer in answers:
        _operation(app, path, method).validate_response(answer)


def test_every_body_is_closed_and_an_unknown_member_is_refused(app, runner, client):
    headers = bearer(admin_token(runner, client))
    document = client.get("/admin/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert schemas[ref.rsplit("/", 1)[1]]["additionalProperties"] is False, ref
            url = re.sub(r"\{realm\}", "default", re.sub(r"\{(?!realm)\w+\}", "x", path))
            answer = client.open(url, method=method, json={"no_such_member": 1}, headers=headers)
            assert answer.status_code in (400, 404), (method, path, answer.get_json())
            assert answer.status_code == 400 or "no_such_member" not in answer.get_data(as_text=True)


def test_the_schemas_follow_the_configuration_and_the_installed_plugins(make_app):
    schemas = make_app(MAX_TOKEN_LIFETIME=7200).test_client().get("/admin/openapi.json").get_json()[
        "components"]["schemas"]
    assert schemas["BackendCreate"]["properties"]["token_ttl"]["maximum"] == 7200
    assert schemas["BackendUpdate"]["properties"]["profile"]["enum"] == profile_names()
    assert schemas["IdentityProviderCreate"]["properties"]["type"]["enum"] == connector_names()


def test_every_schema_is_valid_json_schema(client):
    """Patterns come from the services' regexes, in ECMA-262 (Python's ``\\Z`` is not)."""
    for name, schema in client.get("/admin/openapi.json").get_json()["components"]["schemas"].items():
        try:
            jsonschema_rs.validator_for(schema)
        except jsonschema_rs.ValidationError as exc:
            raise AssertionError(f"{name}: {exc}") from None
