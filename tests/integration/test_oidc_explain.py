"""Explain on a real upstream ID token (npm ``oidc-provider`` over loopback): "would create"
before the exchange, "existing user" after it, nothing written by explain itself."""

from __future__ import annotations

import time

import pytest

from authserver.plugin_api import TOKEN_TYPE_ID_TOKEN
from tests.cli_helpers import admin_token, bearer
from tests.grants.test_explain import row_counts
from tests.integration.test_oidc_exchange import authserver, corp  # noqa: F401  (fixtures)

pytestmark = pytest.mark.integration
EXPLAIN = "/admin/realms/default/explain"


def explain(harness, admin, id_token, **extra):
    harness.clock.current = max(harness.clock.current, time.time())  # upstream tokens carry wall time
    response = harness.app.test_client().post(EXPLAIN, headers=admin, json={
        "client_id": "chat-web", "subject_token": id_token, "subject_token_type": TOKEN_TYPE_ID_TOKEN,
        "audience": "chat-api", **extra})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_an_upstream_id_token_is_explained_before_and_after_its_exchange(corp, upstream_idp):  # noqa: F811
    admin = bearer(admin_token(corp.app.test_cli_runner(), corp.app.test_client()))
    id_token = upstream_idp.login("alice")["id_token"]
    before = row_counts(corp.app)
    first = explain(corp, admin, id_token)
    assert row_counts(corp.app) == before
    assert (first["verdict"], first["connection"]) == ("issue", "corp")
    assert (first["identity"]["outcome"], first["identity"]["rule"]) == ("would create", "provisioning:create")
    names = [step["name"] for step in first["steps"]]
    assert {"verify.signature", "verify.iss", "verify.aud", "verify.exp", "verify.sub"} <= set(names)
    assert "verify.nonce" not in names or next(s for s in first["steps"] if s["name"] == "verify.nonce")["ok"]
    assert first["token"]["claims"]["sub"] == "corp:alice" and first["token"]["claims"]["given_name"] == "Alice"
    assert first["steps"][names.index("verify.iss")]["detail"] == f"iss {upstream_idp.issuer!r}"

    exchanged = corp.chat_claims(corp.exchange(id_token))
    after = explain(corp, admin, id_token)
    assert (after["identity"]["outcome"], after["identity"]["rule"]) == ("existing user", "link")
    assert after["identity"]["user"] == {"_id": exchanged["uid"], "user_id": "corp:alice"}
    assert after["token"]["claims"]["uid"] == exchanged["uid"]


def test_an_id_token_of_another_upstream_client_names_the_aud_check(corp, upstream_idp):  # noqa: F811
    admin = bearer(admin_token(corp.app.test_cli_runner(), corp.app.test_client()))
    answer = explain(corp, admin, upstream_idp.login("alice", client_id="other-app")["id_token"])
    assert (answer["failed_step"], answer["error"]) == ("verify.aud", "invalid_request")
    failed = answer["steps"][-1]
    assert failed["ok"] is False and "aud" in failed["detail"]
    assert answer["error_description"] == "the subject token is invalid"  # what the exchange tells the client
