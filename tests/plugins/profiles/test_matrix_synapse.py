"""Integration: a real Synapse accepts our Matrix login JWTs (``org.matrix.login.jwt``).

Starts Synapse on loopback with SQLite in a temporary directory, registration off, and the
``jwt_config`` snippet our profile publishes; logs in with tokens we shaped and signed,
creates a room, sends a message, and shows that chat users differing only in case or
containing ``@``/``:`` become distinct Matrix users.
"""

from __future__ import annotations

from typing import Any

import pytest

from authserver.plugin_testing.profiles import sample_token, sign
from authserver_plugins.profiles.matrix import MatrixProfile, localpart

pytest.importorskip("synapse", reason="matrix-synapse is not installed "
                    "(pip install 'matrix-synapse[jwt]')")
pytest.importorskip("yaml", reason="PyYAML (a matrix-synapse dependency) is missing")

from tests.support.synapse import SERVER_NAME, Synapse, running_synapse  # noqa: E402

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ISSUER = "https://auth.example.test/realms/default"
AUDIENCE = "synapse-test"


@pytest.fixture(scope="module")
def profile() -> MatrixProfile:
    credential = MatrixProfile.generate_credential() | {
        "issuer": ISSUER, "audience": AUDIENCE, "server_name": SERVER_NAME}
    return MatrixProfile(MatrixProfile.validate_credential(credential))


@pytest.fixture(scope="module")
def synapse(profile, tmp_path_factory):
    with running_synapse(tmp_path_factory.mktemp("synapse"), profile.public_info()["jwt_config"]) as server:
        yield server


def _login(synapse: Synapse, profile: MatrixProfile, subject: str, **extra: Any) -> dict:
    return synapse.login(sign(profile.shape(sample_token(subject=subject, **extra))))


def test_login_create_room_and_send_a_message(synapse, profile):
    login = _login(synapse, profile, "alice")
    assert login["user_id"] == f"@alice:{SERVER_NAME}"
    access = login["access_token"]
    _, event_id = synapse.create_room_and_send(access)
    assert event_id.startswith("$")
    profile_path = f"/_matrix/client/v3/profile/{login['user_id']}/displayname"
    assert synapse.call("GET", profile_path, token=access)["displayname"] == "Alice Liddell"


def test_distinct_chat_users_become_distinct_matrix_users(synapse, profile):
    subjects = ["bob", "Bob", "BOB", "bob@example.com", "bob:example.com", "@bob:example.com",
                "_bob", "Zoë", "4242"]
    user_ids = [_login(synapse, profile, s)["user_id"] for s in subjects]
    assert user_ids == [f"@{localpart(s)}:{SERVER_NAME}" for s in subjects]
    assert len(set(user_ids)) == len(subjects)


def test_same_chat_user_logs_into_the_same_matrix_user(synapse, profile):
    first = _login(synapse, profile, "Carol")
    second = _login(synapse, profile, "Carol")
    assert first["user_id"] == second["user_id"] and first["device_id"] != second["device_id"]


def test_token_signed_with_another_key_is_refused(synapse):
    other = MatrixProfile(MatrixProfile.generate_credential() | {
        "issuer": ISSUER, "audience": AUDIENCE})
    token = sign(other.shape(sample_token(subject="mallory")))
    status, answer = synapse.login_request(token)
    assert (status, answer.get("errcode")) == (403, "M_FORBIDDEN")
