"""Integration: a real Synapse logs in chat users with tokens from authserver's token endpoint.

A chat backend with the ``matrix`` profile gets a server-generated key; the ``jwt_config``
that ``describe_backend`` publishes (what ``authserver backends show`` prints) goes into
Synapse's homeserver.yaml. The app's backend exchanges assertions for four chat users whose
ids differ only in case or contain ``@`` / ``:``; each token logs into Synapse as a distinct
Matrix user, and one of them creates a room and sends a message.
"""

from __future__ import annotations

import time

import pytest

from authserver.plugin_api import TOKEN_TYPE_JWT
from authserver.registry import backends
from authserver.registry.realms import create_realm, get_realm
from tests.factories import AppBackend, make_backend

pytest.importorskip("synapse", reason="matrix-synapse is not installed (pip install 'matrix-synapse[jwt]')")
pytest.importorskip("yaml", reason="PyYAML (a matrix-synapse dependency) is missing")

from tests.support.synapse import SERVER_NAME, running_synapse  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]

AUDIENCE = "matrix-chat"
CHAT_USERS = ("Alice", "alice", "bob@example.com", "bob:example.com")


@pytest.fixture
def authserver(make_app, clock):
    clock.current = time.time()  # Synapse checks iat/exp against the wall clock
    app = make_app()
    with app.app_context():
        create_realm("default")
    make_backend(app, audience=AUDIENCE, profile="matrix",
                 credential={"audience": "synapse", "server_name": SERVER_NAME})
    with app.app_context():
        info = backends.describe_backend(backends.get_backend(get_realm("default"), AUDIENCE))["profile_info"]
    return app, AppBackend(app, audiences=(AUDIENCE,)), info


def matrix_login_token(app, app_backend, clock, chat_user: str) -> str:
    clock.current = max(clock.current, time.time())
    form = app_backend.exchange_form(app_backend.assertion(sub=chat_user), audience=AUDIENCE)
    response = app.test_client().post("/realms/default/token", data=form)
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["issued_token_type"] == TOKEN_TYPE_JWT
    return body["access_token"]


def test_synapse_logs_in_chat_users_with_exchanged_tokens(authserver, clock, tmp_path):
    app, app_backend, info = authserver
    assert info["public_key"].strip() in _unindent(info["jwt_config"])
    with running_synapse(tmp_path, info["jwt_config"]) as synapse:
        logins = {user: synapse.login(matrix_login_token(app, app_backend, clock, user))
                  for user in CHAT_USERS}
        matrix_ids = [logins[user]["user_id"] for user in CHAT_USERS]
        assert len(set(matrix_ids)) == len(CHAT_USERS), matrix_ids
        assert all(m.endswith(f":{SERVER_NAME}") for m in matrix_ids)
        assert logins["alice"]["user_id"] == f"@alice:{SERVER_NAME}"

        again = synapse.login(matrix_login_token(app, app_backend, clock, "Alice"))
        assert again["user_id"] == logins["Alice"]["user_id"]

        room, event_id = synapse.create_room_and_send(logins["bob@example.com"]["access_token"])
        assert room.startswith("!") and event_id.startswith("$")

        status, answer = synapse.login_request(_tampered(matrix_login_token(app, app_backend, clock, "eve")))
        assert (status, answer.get("errcode")) == (403, "M_FORBIDDEN")


def _unindent(snippet: str) -> str:
    return "\n".join(line.strip() for line in snippet.splitlines())


def _tampered(token: str) -> str:
    header, claims, signature = token.split(".")
    return ".".join((header, claims, ("A" if signature[0] != "A" else "B") + signature[1:]))
