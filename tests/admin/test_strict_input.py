"""The admin API reads its input strictly: JSON bodies through the edge parser, only JSON
media types, query parameters once and well formed, and none it does not know. Each case
was answered with a 500, or accepted, before."""

from __future__ import annotations

import re

import pytest

from authserver.admin.openapi import PATHS
from tests.cli_helpers import admin_token, bearer
from tests.factories import make_backend, make_client

BASE = "/admin/realms/default"
#: Every operation that reads a body, with its path parameters filled in (a body is read
#: before the object is looked up, so they need not exist).
BODY_OPERATIONS = [(method, re.sub(r"\{realm\}", "default", re.sub(r"\{(?!realm)\w+\}", "x", path)))
                   for path, operations in PATHS.items() for method, spec in operations.items()
                   if "requestBody" in spec]
LIMITED = [f"{BASE}/users", f"{BASE}/audit", f"{BASE}/webhook-deliveries", f"{BASE}/webhooks/x/deliveries"]
DEEP = "[" * 5000 + "]" * 5000


@pytest.fixture
def headers(runner, client):
    return bearer(admin_token(runner, client))


def assert_invalid_request(response, status: int = 400) -> None:
    assert response.status_code == status, (response.status_code, response.get_data()[:300])
    body = response.get_json()
    assert body["error"] == ("invalid_request" if status == 400 else "unsupported_media_type")
    assert isinstance(body["error_description"], str)


def test_a_deeply_nested_body_is_invalid_request_on_every_operation(client, headers):
    for method, path in BODY_OPERATIONS:
        response = client.open(path, method=method, data='{"x": ' + DEEP + "}", headers=headers,
                               content_type="application/json")
        assert_invalid_request(response), (method, path)


@pytest.mark.parametrize(("path", "raw"), [
    ("backends", '{"audience": "a", "acl_template": [{"path": "/", "filters": {"x": "\\ud800"}}]}'),
    ("backends", '{"audience": "a\\udfff"}'),
    ("clients", '{"name": "web \\ud83d"}'),
    ("backends", '{"audience": "a", "audience": "b"}'),
    ("backends", '{"audience": "a", "acl_template": [{"path": "/", "filters": {"x": NaN}}]}'),
    ("backends", '{"audience": "u16"}'.encode("utf-16")),
    ("backends", b'{"audience": "\xff"}'),
])
def test_malformed_json_is_refused_not_stored(client, headers, path, raw):
    """Lone surrogates (which PostgreSQL refuses at commit), duplicate members, NaN, UTF-16
    and invalid UTF-8: each was accepted before."""
    assert_invalid_request(client.post(f"{BASE}/{path}", data=raw, headers=headers,
                                       content_type="application/json"))
    listed = client.get(f"{BASE}/{path}", headers=headers).get_json()
    assert [b for b in listed if b.get("audience") in ("a", "b", "u16")] == []


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/json; charset=utf-16", "multipart/form-data"])
def test_a_body_that_is_not_json_is_415_on_every_operation(client, headers, content_type):
    for method, path in BODY_OPERATIONS:
        response = client.open(path, method=method, data=b'{"name": "x"}', headers=headers,
                               content_type=content_type)
        assert_invalid_request(response, 415), (method, path, content_type)


def test_an_absent_optional_body_needs_no_content_type(client, headers):
    make_client(client.application, client_id="web-app", name="web")
    assert client.post(f"{BASE}/keys/rotate", headers=headers).status_code == 201
    assert client.post(f"{BASE}/initial-tokens", headers=headers).status_code == 201
    rotated = client.post(f"{BASE}/clients/web-app/rotate-secret", headers=headers)
    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"
    merge_patch = client.patch(f"{BASE}/clients/web-app", data=b'{"name": "Web"}', headers=headers,
                               content_type="application/merge-patch+json")
    assert merge_patch.status_code == 200 and merge_patch.get_json()["name"] == "Web"


@pytest.mark.parametrize("value", ["\u00b2", "9" * 5000, "\u0663", "+5", "5 ", "0x10", "", "1.0"])
def test_integer_query_parameters_are_ascii_digits_in_range(client, headers, value):
    """``²`` and a 5000-digit number raised inside ``int()`` (500); ``٣`` was read as 3."""
    for path in LIMITED:
        assert_invalid_request(client.get(path, headers=headers, query_string={"limit": value})), path


@pytest.mark.parametrize(("path", "query"), [
    ("users", "limit=1&limit=2"), ("audit", "limit=5&limit=5"), ("usage", "month=2026-01&month=2026-02"),
    ("webhook-deliveries", "state=dead&state=pending"),
])
def test_a_query_parameter_given_twice_is_refused(client, headers, path, query):
    assert_invalid_request(client.get(f"{BASE}/{path}?{query}", headers=headers))


def test_unknown_query_parameters_are_refused_everywhere(app, client, headers):
    """A misspelt ``limt`` was silently ignored."""
    make_backend(app)
    for path in ("clients", "backends", "backends/chat-api", "users?limt=5", "audit?limit=5&x", "keys",
                 "usage?month=2026-01&mnth=2", "webhooks", "webhook-deliveries?stat=dead"):
        url = f"{BASE}/{path}" + ("" if "?" in path else "?limt=5")
        response = client.get(url, headers=headers)
        assert_invalid_request(response), url
        assert "unknown query parameter" in response.get_json()["error_description"]
    assert_invalid_request(client.get("/admin/realms?page=2", headers=headers))
    assert client.get(f"{BASE}/users?limit=5", headers=headers).status_code == 200


@pytest.mark.parametrize("alg", ["", 0, False, [], {}])
def test_a_falsy_alg_is_refused_not_taken_for_the_default(client, headers, alg):
    assert_invalid_request(client.post(f"{BASE}/keys/rotate", json={"alg": alg}, headers=headers))
    assert_invalid_request(client.post("/admin/realms", json={"name": "other", "alg": alg}, headers=headers))
    assert client.post("/admin/realms", json={"name": "other", "alg": None}, headers=headers).status_code == 201


def test_an_idp_answer_with_its_shared_secret_is_not_stored(app, client, headers):
    make_client(app, client_id="app-backend", name="backend")
    created = client.post(f"{BASE}/idps", headers=headers, json={
        "name": "app", "type": "backend_assertion", "client_id": "app-backend", "shared_secret": True})
    assert created.status_code == 201 and created.get_json()["shared_secret"]
    assert created.headers["Cache-Control"] == "no-store"
    rotated = client.patch(f"{BASE}/idps/app", headers=headers, json={"shared_secret": True})
    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"


def test_a_number_too_large_for_a_float_is_refused(client, headers):
    """``1e400`` was read as ``float('inf')``, stored, and answered as the non-JSON ``Infinity``."""
    raw = '{"audience": "big", "acl_template": [{"path": "/", "filters": {"x": 1e400}}]}'
    assert_invalid_request(client.post(f"{BASE}/backends", data=raw, headers=headers,
                                       content_type="application/json"))


@pytest.mark.parametrize(("path", "body"), [
    ("/admin/realms", {"name": "tenant\n"}),
    (f"{BASE}/clients", {"name": "web", "client_id": "web\n"}),
    (f"{BASE}/idps", {"name": "corp\n", "type": "oidc",
                      "config": {"issuer": "https://idp.example", "client_ids": ["web"]}}),
    (f"{BASE}/backends", {"audience": "chat\n"}),
    (f"{BASE}/backends", {"audience": "chat", "scopes": ["read\n"]}),
])
def test_names_with_a_trailing_newline_are_refused(client, headers, path, body):
    """``re.match`` with ``$`` took ``"tenant\\n"`` for a name."""
    assert_invalid_request(client.post(path, json=body, headers=headers))


UNCLOSED_IPV6 = "https://[::1/cb"


@pytest.mark.parametrize(("path", "body"), [
    (f"{BASE}/clients", {"name": "web", "redirect_uris": [UNCLOSED_IPV6]}),
    (f"{BASE}/clients", {"name": "keyed", "auth_method": "private_key_jwt", "jwks_uri": UNCLOSED_IPV6}),
    (f"{BASE}/webhooks", {"url": UNCLOSED_IPV6}),
    (f"{BASE}/idps", {"name": "corp", "type": "oidc", "config": {"issuer": UNCLOSED_IPV6, "client_ids": ["web"]}}),
    (f"{BASE}/idps", {"name": "info", "type": "oauth2_userinfo", "config": {"userinfo_url": UNCLOSED_IPV6}}),
])
def test_a_url_with_an_unclosed_ipv6_bracket_is_invalid_request(client, headers, path, body):
    assert_invalid_request(client.post(path, json=body, headers=headers))
