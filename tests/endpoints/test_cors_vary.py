"""``Vary: Origin`` on /token answers (authserver/browser/cors.py): the CORS answer depends on
``Origin`` only when the request carries one, so only those answers say so. Every /token
answer is ``no-store`` (no cache could reuse one for a CORS request)."""

from __future__ import annotations

import pytest

from tests.factories import basic_auth, make_backend, make_client

TOKEN = "/realms/default/token"
REGISTERED = "https://chat.example.test"


@pytest.fixture
def service(app):
    make_backend(app)
    made = make_client(app, client_id="service", audiences=["chat-api"], scopes="chat:read")
    return basic_auth("service", made["client_secret"])


@pytest.fixture
def browser_app(app, service):
    make_client(app, client_id="web-app", auth_method="none", grant_types=["authorization_code"],
                redirect_uris=[f"{REGISTERED}/callback"], audiences=["chat-api"], scopes="chat:read")
    return "web-app"


def credentials(client, headers):
    return client.post(TOKEN, data={"grant_type": "client_credentials", "audience": "chat-api"}, headers=headers)


def varies_on_origin(response) -> bool:
    return "origin" in {value.lower() for value in response.vary}


def test_without_origin_the_answer_does_not_vary_on_it(client, service):
    response = credentials(client, service)
    assert response.status_code == 200, response.get_json()
    assert not varies_on_origin(response) and "Access-Control-Allow-Origin" not in response.headers
    assert "no-store" in response.headers["Cache-Control"]


def test_with_origin_the_answer_varies_on_it(client, service):
    response = credentials(client, {**service, "Origin": "https://elsewhere.example"})
    assert response.status_code == 200, response.get_json()
    assert varies_on_origin(response) and "Access-Control-Allow-Origin" not in response.headers
    assert "no-store" in response.headers["Cache-Control"]


@pytest.mark.parametrize("origin", [None, "https://elsewhere.example"])
def test_an_error_answer_varies_on_origin_only_when_one_was_sent(client, service, origin):
    headers = {**basic_auth("service", "wrong-secret"), **({"Origin": origin} if origin else {})}
    response = credentials(client, headers)
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"
    assert varies_on_origin(response) is (origin is not None)
    assert "no-store" in response.headers["Cache-Control"]


def test_a_registered_origin_reads_the_answer_and_it_varies_on_origin(client, browser_app):
    form = {"grant_type": "authorization_code", "client_id": browser_app, "code": "not-a-code",
            "redirect_uri": f"{REGISTERED}/callback", "code_verifier": "v" * 43}
    ours = client.post(TOKEN, data=form, headers={"Origin": REGISTERED})
    assert ours.status_code == 400 and ours.get_json()["error"] == "invalid_grant"
    assert ours.headers["Access-Control-Allow-Origin"] == REGISTERED and varies_on_origin(ours)
    plain = client.post(TOKEN, data=form)
    assert "Access-Control-Allow-Origin" not in plain.headers and not varies_on_origin(plain)
