"""Anonymous sessions, upgrade and merge, delegation, re-scoping (DESIGN: three trust levels)."""

from __future__ import annotations

import jwt as pyjwt
import pytest
from sqlalchemy import func, select

from authserver.extensions import db
from authserver.models import User
from authserver.plugin_api import TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_SESSION
from tests.factories import TOKEN_EXCHANGE, AppBackend, basic_auth, make_backend, make_client

AUDIENCE = "chat-api"


def claims_of(token: str) -> dict:
    return pyjwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def setup(app):
    make_backend(app, acl_template=[{"path": "/v1/users/{user_id}/**", "methods": ["GET", "POST"]}])
    make_backend(app, audience="support-api", scopes="support:read", default_scopes="support:read")
    backend = AppBackend(app, audiences=(AUDIENCE, "support-api"), scopes="chat:read chat:write support:read")
    web = make_client(app, client_id="web", name="web", auth_method="none", allow_anonymous=True,
                      grant_types=[TOKEN_EXCHANGE], audiences=[AUDIENCE], scopes="chat:read chat:write",
                      idps=["app"])
    return backend, web


def new_session(client, **profile):
    response = client.post("/realms/default/sessions",
                           json={"client_id": "web", "audience": AUDIENCE, **profile})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def exchange(client, form):
    return client.post("/realms/default/token", data=form)


def test_anonymous_session_gives_unverified_chat_jwt(client, setup):
    body = new_session(client, name="Guest 7", email="g7@example.com", custom={"plan": "free"})
    claims = claims_of(body["access_token"])
    assert claims["sub"] == claims["uid"] == body["_id"]
    assert claims["identified"] is False and claims["verified"] is False
    assert claims["unverified"] == {"name": "Guest 7", "email": "g7@example.com", "custom": {"plan": "free"}}
    assert "custom" not in claims and "name" not in claims  # kept apart from verified data
    assert claims["sid"] and claims["acl"] == [{"path": f"/v1/users/{body['_id']}/**", "methods": ["GET", "POST"]}]


def test_session_token_refreshes_tokens(client, setup):
    body = new_session(client)
    again = exchange(client, {"grant_type": TOKEN_EXCHANGE, "client_id": "web",
                              "subject_token": body["session_token"], "subject_token_type": TOKEN_TYPE_SESSION,
                              "audience": AUDIENCE})
    assert again.status_code == 200, again.get_json()
    assert claims_of(again.get_json()["access_token"])["uid"] == body["_id"]


def test_sessions_refused_for_client_not_allowed_and_rate_limited(app, client, setup):
    make_client(app, client_id="mobile", name="m", auth_method="none", grant_types=[TOKEN_EXCHANGE],
                audiences=[AUDIENCE], scopes="chat:read")
    refused = client.post("/realms/default/sessions", json={"client_id": "mobile", "audience": AUDIENCE})
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"
    app.config["ANONYMOUS_SESSION_LIMIT"] = 2
    new_session(client)
    new_session(client)
    limited = client.post("/realms/default/sessions", json={"client_id": "web", "audience": AUDIENCE})
    assert limited.status_code == 429


def test_bad_session_input_is_a_clear_error(client, setup):
    assert client.post("/realms/default/sessions", data="[]", content_type="application/json").status_code == 400
    bad = client.post("/realms/default/sessions", json={"client_id": "web", "audience": AUDIENCE, "custom": "x"})
    assert bad.status_code == 400 and "custom" in bad.get_json()["error_description"]
    wrong_aud = client.post("/realms/default/sessions", json={"client_id": "web", "audience": "nope"})
    assert wrong_aud.get_json()["error"] == "invalid_target"


def upgrade_form(backend, clock, session_token, sub):
    return {"grant_type": TOKEN_EXCHANGE, "client_id": "web",
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "subject_token": backend.assertion(sub=sub, now=clock()), "session_token": session_token,
            "audience": AUDIENCE}


def test_upgrade_assigns_user_id_to_the_anonymous_user(client, setup, clock):
    backend, _ = setup
    anonymous = new_session(client)
    response = exchange(client, upgrade_form(backend, clock, anonymous["session_token"], "alice"))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["upgrade"] == {"outcome": "assigned", "from": anonymous["_id"], "_id": anonymous["_id"]}
    claims = claims_of(body["access_token"])
    assert (claims["sub"], claims["uid"], claims["identified"]) == ("alice", anonymous["_id"], True)
    stale = exchange(client, {"grant_type": TOKEN_EXCHANGE, "client_id": "web", "audience": AUDIENCE,
                              "subject_token": anonymous["session_token"], "subject_token_type": TOKEN_TYPE_SESSION})
    assert stale.status_code == 400 and stale.get_json()["error"] == "invalid_request"


def test_upgrade_merges_into_an_existing_identified_user(app, client, setup, clock):
    backend, _ = setup
    first = exchange(client, backend.exchange_form(backend.assertion(sub="bob", now=clock()), audience=AUDIENCE))
    bob_uid = claims_of(first.get_json()["access_token"])["uid"]
    anonymous = new_session(client, name="anon")
    body = exchange(client, upgrade_form(backend, clock, anonymous["session_token"], "bob")).get_json()
    assert body["upgrade"]["outcome"] == "merged" and body["upgrade"]["_id"] == bob_uid
    assert claims_of(body["access_token"])["uid"] == bob_uid
    with app.app_context():
        merged = db.session.scalar(select(User).where(User.uid == anonymous["_id"]))
        assert (merged.state, merged.merged_into, merged.user_id) == ("merged", bob_uid, None)
        assert db.session.scalar(select(func.count()).select_from(User).where(User.user_id == "bob")) == 1


def test_delegation_carries_act_and_needs_permission(app, client, setup, clock):
    backend, _ = setup
    make_client(app, client_id="bot", name="bot", auth_method="client_secret_basic",
                grant_types=["client_credentials", TOKEN_EXCHANGE], audiences=[AUDIENCE],
                scopes="chat:read chat:write", idps=["app"], allow_delegation=True)
    from authserver.registry import clients
    from authserver.registry.realms import get_realm
    with app.app_context():
        secret = clients.rotate_secret(get_realm("default"), "bot", "test").client_secret
    actor = client.post("/realms/default/token", data={"grant_type": "client_credentials", "audience": AUDIENCE},
                        headers=basic_auth("bot", secret)).get_json()["access_token"]
    form = {"grant_type": TOKEN_EXCHANGE, "subject_token": backend.assertion(sub="carol", now=clock()),
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "audience": AUDIENCE,
            "actor_token": actor, "actor_token_type": TOKEN_TYPE_ACCESS_TOKEN}
    delegated = client.post("/realms/default/token", data=form, headers=basic_auth("bot", secret))
    assert delegated.status_code == 200, delegated.get_json()
    claims = claims_of(delegated.get_json()["access_token"])
    assert claims["sub"] == "carol" and claims["act"] == {"sub": "bot", "client_id": "bot"}
    refused = exchange(client, backend.exchange_form(backend.assertion(sub="carol", now=clock()), audience=AUDIENCE,
                                                     actor_token=actor, actor_token_type=TOKEN_TYPE_ACCESS_TOKEN))
    assert refused.status_code == 400 and refused.get_json()["error"] == "unauthorized_client"


def rescope(client, backend, token, **extra):
    return exchange(client, {"grant_type": TOKEN_EXCHANGE, "client_id": backend.client_id,
                             "client_secret": backend.secret, "subject_token": token,
                             "subject_token_type": TOKEN_TYPE_ACCESS_TOKEN, **extra})


def test_rescoping_narrows_but_never_widens(client, setup, clock):
    backend, _ = setup
    original = exchange(client, backend.exchange_form(backend.assertion(sub="dan", now=clock()),
                                                      audience=AUDIENCE, scope="chat:read chat:write")).get_json()
    narrower = rescope(client, backend, original["access_token"], audience=AUDIENCE, scope="chat:read")
    assert narrower.status_code == 200 and narrower.get_json()["scope"] == "chat:read"
    narrow_token = narrower.get_json()["access_token"]
    wider = rescope(client, backend, narrow_token, audience=AUDIENCE, scope="chat:read chat:write")
    assert wider.status_code == 400 and wider.get_json()["error"] == "invalid_scope"
    other_scope = rescope(client, backend, narrow_token, audience="support-api")
    assert other_scope.get_json()["error"] == "invalid_scope"


def test_rescoping_to_an_audience_the_original_client_lacked_is_invalid_target(app, client, setup, clock):
    backend, _ = setup
    from authserver.registry import clients
    from authserver.registry.realms import get_realm
    with app.app_context():  # app-backend serves chat-api: it may re-exchange what chat-api received
        clients.update_client(get_realm("default"), backend.client_id, {"serves": [AUDIENCE]}, "test")
    token = new_session(client)["access_token"]  # issued to "web", whose only audience is chat-api
    response = rescope(client, backend, token, audience="support-api")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_target"
