"""RFC 7662 introspection and RFC 7009 revocation, including "log out everywhere"."""

from __future__ import annotations

import pytest

from authserver.identity import users
from authserver.registry import clients
from authserver.registry.realms import get_realm
from authserver.tokens import revocation
from tests.factories import AppBackend, basic_auth, make_backend, make_client

AUDIENCE = "chat-api"


@pytest.fixture
def env(app, client, clock):
    make_backend(app)
    backend = AppBackend(app)
    checker = make_client(app, client_id="chat-backend", name="chat backend", auth_method="client_secret_basic",
                          grant_types=["client_credentials"], serves=[AUDIENCE])

    def issue(sub="erin"):
        response = client.post("/realms/default/token", data=backend.exchange_form(
            backend.assertion(sub=sub, now=clock()), audience=AUDIENCE))
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    def introspect(token):
        response = client.post("/realms/default/introspect", data={"token": token},
                               headers=basic_auth("chat-backend", checker["client_secret"]))
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return backend, issue, introspect


def test_active_token_introspects_with_its_claims(env):
    _, issue, introspect = env
    result = introspect(issue())
    assert result["active"] is True and result["sub"] == "erin" and result["aud"] == AUDIENCE


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 20000])
def test_unparseable_tokens_are_inactive(env, token):
    _, _, introspect = env
    assert introspect(token) == {"active": False}


def test_expired_token_is_inactive(env, clock, app):
    _, issue, introspect = env
    token = issue()
    clock.advance(app.config["DEFAULT_TOKEN_LIFETIME"] + app.config["CLOCK_SKEW_SECONDS"] + 1)
    assert introspect(token)["active"] is False


def test_introspection_requires_client_authentication(client, env):
    _, issue, _ = env
    response = client.post("/realms/default/introspect", data={"token": issue()})
    assert response.status_code == 401 and response.get_json()["error"] == "invalid_client"


def test_holder_revokes_its_token(client, env):
    backend, issue, introspect = env
    token = issue()
    response = client.post("/realms/default/revoke", data={"token": token, "client_id": backend.client_id,
                                                           "client_secret": backend.secret})
    assert response.status_code == 200
    assert introspect(token) == {"active": False}


def test_another_client_cannot_revoke(client, env, app):
    _, issue, introspect = env
    token = issue()
    intruder = make_client(app, client_id="intruder", name="intruder", auth_method="client_secret_basic")
    response = client.post("/realms/default/revoke", data={"token": token},
                           headers=basic_auth("intruder", intruder["client_secret"]))
    assert response.status_code == 400
    assert introspect(token)["active"] is True


def test_log_out_everywhere_and_client_cut_off(app, env, clock):
    _, issue, introspect = env
    first, second = issue("frank"), issue("frank")
    with app.app_context():
        revocation.revoke_user_tokens(get_realm("default"), "frank", "admin")
    assert introspect(first)["active"] is False and introspect(second)["active"] is False
    clock.advance(1)
    assert introspect(issue("frank"))["active"] is True  # new logins work again
    other = issue("gina")
    with app.app_context():
        revocation.revoke_client_tokens(get_realm("default"), "app-backend", "admin")
    assert introspect(other)["active"] is False


def test_disabled_user_tokens_are_inactive(app, env):
    _, issue, introspect = env
    token = issue("hank")
    with app.app_context():
        users.set_user_disabled(get_realm("default"), "hank", True, "admin")
    assert introspect(token)["active"] is False


def test_foreign_realm_token_is_inactive(app, env, client):
    from authserver.registry.realms import create_realm

    _, issue, _ = env
    with app.app_context():
        create_realm("other")
        other_client = clients.create_client(get_realm("other"), {"name": "x", "client_id": "x-check"}, "t")
    response = client.post("/realms/other/introspect", data={"token": issue()},
                           headers=basic_auth("x-check", other_client.client_secret))
    assert response.get_json() == {"active": False}


def test_discovery_lists_introspection_and_revocation(client):
    metadata = client.get("/realms/default/.well-known/openid-configuration").get_json()
    assert metadata["introspection_endpoint"].endswith("/realms/default/introspect")
    assert metadata["revocation_endpoint"].endswith("/realms/default/revoke")
