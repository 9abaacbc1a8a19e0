"""Explain (``POST /admin/realms/{r}/explain``): the token exchange's decision, step by step,
with nothing written — and the exact step each refusal comes from."""

from __future__ import annotations

import logging

import pytest
import schemathesis
from sqlalchemy import func, select

from authserver.extensions import db
from authserver.registry import idps
from authserver.registry.realms import get_realm
from tests.cli_helpers import admin_token, bearer
from tests.factories import AppBackend, make_backend
from tests.grants import exchange_fixtures
from tests.grants.exchange_fixtures import AUDIENCE, TOKEN_URL

EXPLAIN = "/admin/realms/default/explain"
backend = exchange_fixtures.backend


@pytest.fixture
def admin(runner, client):
    return bearer(admin_token(runner, client))


def explain(client, admin, backend, assertion, **extra):
    body = {"client_id": backend.client_id, "subject_token": assertion,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "audience": AUDIENCE, **extra}
    response = client.post(EXPLAIN, headers=admin, json=body)
    assert response.status_code == 200, response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def step(answer, name):
    return next(s for s in answer["steps"] if s["name"] == name)


def row_counts(app) -> dict[str, int]:
    """Every table's row count (the replay cache's table among them)."""
    with app.app_context():
        return {table.name: db.session.scalar(select(func.count()).select_from(table))
                for table in db.metadata.sorted_tables}


def every_row_as_text(app) -> str:
    with app.app_context():
        return "\n".join(str(tuple(row)) for table in db.metadata.sorted_tables
                         for row in db.session.execute(select(table)))


def test_explain_changes_nothing_and_the_assertion_still_exchanges(app, client, admin, backend, clock):
    assertion = backend.assertion("user-1", now=clock(), email="u1@example.test", name="User One")
    before = row_counts(app)
    answer = explain(client, admin, backend, assertion)
    assert row_counts(app) == before
    assert (answer["verdict"], answer["failed_step"], answer["error"]) == ("issue", None, None)
    assert answer["connection"] == "app" and answer["connections"][0]["result"] == "matched"
    assert [s["name"] for s in answer["steps"]][:4] == ["parse", "client", "audience", "profile"]
    assert all(s["ok"] for s in answer["steps"])
    assert "unused" in step(answer, "replay")["detail"]
    assert answer["identity"] == {"outcome": "would create", "rule": "provisioning:create",
                                  "steps": answer["identity"]["steps"], "user": {"_id": "(new)", "user_id": "user-1"}}
    assert answer["scopes"]["granted"] == ["chat:read"] and answer["scopes"]["client"] == ["chat:read", "chat:write"]
    claims = answer["token"]["claims"]
    assert answer["token"]["signed"] is False and answer["token"]["header"]["typ"] == "at+jwt"
    assert (claims["sub"], claims["aud"], claims["scope"], claims["idp"]) == ("user-1", AUDIENCE, "chat:read", "app")
    assert claims["acl"] == [{"path": "/v1/users/user-1/**", "methods": ["GET"]}] and claims["name"] == "User One"

    exchanged = client.post(TOKEN_URL, data=backend.exchange_form(assertion, audience=AUDIENCE))
    assert exchanged.status_code == 200, exchanged.get_json()
    again = explain(client, admin, backend, assertion)
    assert (again["failed_step"], again["error"]) == ("replay", "invalid_request")
    fresh = explain(client, admin, backend, backend.assertion("user-1", now=clock()))
    assert fresh["identity"]["outcome"] == "existing user" and fresh["identity"]["rule"] == "link"
    assert fresh["token"]["claims"]["uid"] == fresh["identity"]["user"]["_id"] != "(new)"


def test_a_wrong_audience_fails_at_the_audience_step(client, admin, backend, clock):
    make_backend(client.application, audience="billing-api", scopes="billing:read", default_scopes="billing:read")
    answer = explain(client, admin, backend, backend.assertion(now=clock()), audience="billing-api")
    assert (answer["verdict"], answer["failed_step"], answer["error"]) == ("refuse", "audience", "invalid_target")
    assert answer["audience"] == {"requested": "billing-api", "client": [AUDIENCE], "resolved": None}
    assert answer["steps"][-1] == {"name": "audience", "ok": False,
                                   "detail": "The client may not request tokens for this audience."}
    assert answer["identity"] is None and answer["token"] is None


def test_an_idp_the_client_may_not_use_fails_at_the_connection_step(app, client, admin, backend, clock):
    AppBackend(app, name="partner", idp_name="partner")
    answer = explain(client, admin, backend, backend.assertion(now=clock()), idp="partner")
    assert (answer["failed_step"], answer["error"]) == ("connection", "invalid_request")
    assert step(answer, "connection")["detail"] == "the identity provider is not allowed for this client"
    results = {row["name"]: row["result"] for row in answer["connections"]}
    assert results == {"app": "not requested", "partner": "not allowed"}


def test_a_disabled_or_wrong_type_connection_says_why(app, client, admin, backend, clock):
    with app.app_context():
        idps.create_idp(get_realm("default"), {"name": "corp", "type": "oidc", "config": {
            "issuer": "https://idp.example", "client_ids": ["web"]}}, "test")
        from authserver.registry import clients
        clients.update_client(get_realm("default"), backend.client_id, {"idps": ["app", "corp"]}, "test")
    answer = explain(client, admin, backend, backend.assertion(now=clock()))
    assert answer["verdict"] == "issue"
    results = {row["name"]: (row["result"], row["detail"]) for row in answer["connections"]}
    assert results["app"][0] == "matched" and results["corp"][0] == "wrong token type"
    with app.app_context():
        idps.update_idp(get_realm("default"), "app", {"disabled": True}, "test")
    answer = explain(client, admin, backend, backend.assertion(now=clock()))
    assert answer["failed_step"] == "connection"
    assert {row["name"]: row["result"] for row in answer["connections"]}["app"] == "disabled"


def test_an_expired_token_fails_at_verify_exp_with_the_connectors_words(client, admin, backend, clock):
    answer = explain(client, admin, backend, backend.assertion(now=clock() - 1000))
    assert (answer["failed_step"], answer["error"]) == ("verify.exp", "invalid_request")
    assert step(answer, "verify.signature")["ok"] is True
    assert step(answer, "verify.exp")["detail"].startswith("token expired (exp=")
    assert answer["error_description"] == "the subject token has expired"  # what the exchange answers


def test_a_bad_signature_and_a_wrong_aud_name_their_checks(app, client, admin, backend, clock):
    impostor = AppBackend(app, name="impostor", idp_name="impostor")
    forged = impostor.assertion(now=clock(), iss=backend.client_id)  # signed with another key
    forged_answer = explain(client, admin, backend, forged)
    assert forged_answer["failed_step"] == "verify.signature"
    assert step(forged_answer, "verify.signature")["detail"].startswith("signature verification failed")
    wrong_aud = backend.assertion(now=clock(), issuer="https://elsewhere.example")
    answer = explain(client, admin, backend, wrong_aud)
    assert answer["failed_step"] == "verify.aud" and "'aud'" in step(answer, "verify.aud")["detail"]


def test_a_link_through_an_unverified_email_is_refused_naming_the_rule(app, client, admin, backend, clock):
    assert client.post(TOKEN_URL, data=backend.exchange_form(backend.assertion(
        "ceo", now=clock(), email="ceo@example.test"), audience=AUDIENCE)).status_code == 200
    mailer = AppBackend(app, name="mailer", idp_name="mailer", user_id_claim="email",
                        provisioning="link_verified_email")
    before = row_counts(app)
    answer = explain(client, admin, mailer, mailer.assertion("m-1", now=clock(), email="ceo@example.test",
                                                             email_verified=False))
    assert (answer["failed_step"], answer["error"]) == ("identity", "invalid_grant")
    assert answer["identity"] == {"outcome": "refused", "rule": "email_not_vouched", "steps": [], "user": None}
    assert step(answer, "identity")["detail"].startswith("rule email_not_vouched: ")
    vouched = explain(client, admin, mailer, mailer.assertion("m-1", now=clock(), email="ceo@example.test"))
    assert vouched["verdict"] == "issue"
    assert (vouched["identity"]["outcome"], vouched["identity"]["rule"]) == ("would link", "link_verified_email")
    assert vouched["identity"]["user"]["user_id"] == "ceo"
    assert row_counts(app) == before


def test_the_subject_token_is_never_logged_nor_stored(app, client, admin, backend, clock, caplog):
    caplog.set_level(logging.DEBUG)
    tokens = [backend.assertion("logged", now=clock()), backend.assertion(now=clock() - 1000),
              "not-a-jwt-but-a-secret-value"]
    for token in tokens:
        response = client.post(EXPLAIN, headers=admin, json={
            "client_id": backend.client_id, "subject_token": token,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt"})
        assert token not in response.get_data(as_text=True)
    stored = every_row_as_text(app)
    for token in tokens:
        assert token not in caplog.text and token not in stored
        assert token.split(".")[-1] not in caplog.text  # not even its signature


def test_anonymous_and_bad_input_are_refused(app, client, admin, backend, clock):
    body = {"client_id": backend.client_id, "subject_token": backend.assertion(now=clock()),
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt"}
    anonymous = client.post(EXPLAIN, json=body)
    assert anonymous.status_code == 401 and anonymous.get_json()["error"] == "invalid_token"
    for bad, words in [({**body, "subject_token": ""}, "subject_token: required"),
                       ({k: v for k, v in body.items() if k != "client_id"}, "client_id: required"),
                       ({**body, "scope": ["chat:read"]}, "scope: must be a string"),
                       ({**body, "audience": "chat\x00api"}, "audience: must be a string without control"),
                       ({**body, "grant_type": "x"}, "the body may hold only: client_id, ")]:
        response = client.post(EXPLAIN, headers=admin, json=bad)
        assert response.status_code == 400, bad
        assert response.get_json()["error"] == "invalid_request"
        assert response.get_json()["error_description"].startswith(words)
    assert client.post(EXPLAIN, headers=admin, data="x", content_type="text/plain").status_code == 415
    assert client.post("/admin/realms/nowhere/explain", headers=admin, json=body).status_code in (401, 404)
    unknown = client.post(EXPLAIN, headers=admin, json={**body, "client_id": "nobody"}).get_json()
    assert (unknown["failed_step"], unknown["error"]) == ("client", "invalid_client")


def test_answers_match_the_openapi_document(app, client, admin, backend, clock):
    operation = schemathesis.openapi.from_wsgi("/admin/openapi.json", app)["/admin/realms/{realm}/explain"]["POST"]
    for extra in ({}, {"audience": "nope"}, {"idp": "nope"}, {"scope": "a  b"}):
        body = {"client_id": backend.client_id, "subject_token": backend.assertion(now=clock()),
                "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", **extra}
        operation.validate_response(client.post(EXPLAIN, headers=admin, json=body))
    operation.validate_response(client.post(EXPLAIN, headers=admin, json={}))
