"""The whole life of a chat user, over real HTTP: anonymous session → non-verified profile →
chat JWT → login at a real upstream OpenID Provider with the session token → identified
user with the same ``_id`` (or merged into the existing one) → the old session token is
refused → the new token works at the example chat backend, verified by authserver-verifier.
"""

from __future__ import annotations

import importlib.util
import pathlib
import time

import pytest
import requests

from authserver.plugin_api import TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_SESSION
from authserver.registry import clients, idps
from authserver.registry.realms import create_realm, get_realm
from authserver.tokens import revocation
from authserver_verifier import Verifier
from tests.factories import TOKEN_EXCHANGE, make_backend, make_client
from tests.live_server import LiveServer

pytestmark = pytest.mark.integration
EXAMPLE = pathlib.Path(__file__).parents[2] / "examples" / "chat_backend" / "app.py"


def load_example_backend():
    spec = importlib.util.spec_from_file_location("example_chat_backend", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def live(make_app, clock, upstream_idp):
    clock.current = time.time()
    app = make_app()
    with app.app_context():
        create_realm("default")
    make_backend(app, acl_template=[{"path": "/v1/**", "methods": ["GET", "POST"]}])
    make_client(app, client_id="chat-web", auth_method="none", grant_types=[TOKEN_EXCHANGE],
                audiences=["chat-api"], scopes="chat:read chat:write", allow_anonymous=True)
    checker = make_client(app, client_id="chat-api-server", name="chat API", auth_method="client_secret_basic",
                          grant_types=["client_credentials"], serves=["chat-api"])
    with app.app_context():
        idps.create_idp(get_realm("default"), {"name": "corp", "type": "oidc", "config": {
            "issuer": upstream_idp.issuer, "client_ids": ["chat-web"]}}, "test")
        clients.update_client(get_realm("default"), "chat-web", {"idps": ["corp"]}, "test")
    with LiveServer(app) as server:
        app.config["ISSUER_BASE_URL"] = server.url
        yield {"app": app, "url": server.url, "issuer": f"{server.url}/realms/default",
               "checker_secret": checker["client_secret"], "clock": clock}


def post(live, path, **kwargs):
    live["clock"].current = max(live["clock"].current, time.time())
    return requests.post(f"{live['url']}/realms/default/{path}", timeout=10, **kwargs)


def anonymous(live, name):
    response = post(live, "sessions", json={"client_id": "chat-web", "audience": "chat-api", "name": name})
    assert response.status_code == 201, response.text
    return response.json()


def login_with_session(live, upstream_idp, username, session_token):
    id_token = upstream_idp.login(username, client_id="chat-web")["id_token"]
    return post(live, "token", data={
        "grant_type": TOKEN_EXCHANGE, "client_id": "chat-web", "audience": "chat-api",
        "subject_token": id_token, "subject_token_type": TOKEN_TYPE_ID_TOKEN,
        "session_token": session_token, "scope": "chat:read chat:write"})


def test_anonymous_to_identified_to_chat_backend(live, upstream_idp):
    verifier = Verifier(issuer=live["issuer"], audience="chat-api")
    guest = anonymous(live, "Guest 1")
    guest_claims = verifier.verify(guest["access_token"])
    assert guest_claims["identified"] is False and guest_claims["unverified"] == {"name": "Guest 1"}

    upgraded = login_with_session(live, upstream_idp, "walt", guest["session_token"])
    assert upgraded.status_code == 200, upgraded.text
    assert upgraded.json()["upgrade"]["outcome"] == "assigned"
    claims = verifier.verify(upgraded.json()["access_token"])
    assert claims["uid"] == guest["_id"] and claims["identified"] is True and claims["verified"] is True

    stale = post(live, "token", data={"grant_type": TOKEN_EXCHANGE, "client_id": "chat-web", "audience": "chat-api",
                                      "subject_token": guest["session_token"],
                                      "subject_token_type": TOKEN_TYPE_SESSION})
    assert stale.status_code == 400 and stale.json()["error"] == "invalid_request"

    backend = load_example_backend().create_app(verifier=verifier).test_client()
    token = upgraded.json()["access_token"]
    me = backend.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.get_json()["sub"] == claims["sub"]
    sent = backend.post("/v1/rooms/lobby/messages", json={"text": "hi"}, headers={"Authorization": f"Bearer {token}"})
    assert sent.status_code in (200, 201)
    assert backend.get("/v1/me", headers={"Authorization": "Bearer " + guest["session_token"]}).status_code == 401


def test_second_device_merges_into_existing_user_and_revocation_is_seen(live, upstream_idp):
    verifier = Verifier(issuer=live["issuer"], audience="chat-api")
    first = login_with_session(live, upstream_idp, "xena", anonymous(live, "phone")["session_token"]).json()
    laptop = anonymous(live, "laptop")
    merged = login_with_session(live, upstream_idp, "xena", laptop["session_token"])
    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert body["upgrade"]["outcome"] == "merged"
    merged_uid = verifier.verify(body["access_token"])["uid"]
    assert merged_uid == verifier.verify(first["access_token"])["uid"] != laptop["_id"]

    credentials = {"client_id": "chat-api-server", "client_secret": live["checker_secret"]}
    assert verifier.introspect(body["access_token"], **credentials)["active"] is True
    with live["app"].app_context():
        revocation.revoke_user_tokens(get_realm("default"), verifier.verify(body["access_token"])["sub"], "admin")
    assert verifier.introspect(body["access_token"], **credentials)["active"] is False
    assert verifier.introspect(first["access_token"], **credentials)["active"] is False
