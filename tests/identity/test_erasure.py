"""Deleting a user erases it (authserver.identity.users.delete_user): links and device sessions
go, usage keeps only counts, history keeps identifiers, and the same upstream account logging
in again is a new user."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from authserver.extensions import db
from authserver.identity import users
from authserver.identity.sessions import create_anonymous_session
from authserver.models import AuditEvent, DeviceSession, Event, IdentityLink, MonthlyUsage, User
from authserver.registry.clients import get_client
from authserver.registry.realms import get_realm
from authserver.state import RealmContext, app_state
from authserver.tokens.access_tokens import active_claims
from authserver.tokens.usage import report
from tests.cli_helpers import admin_token, bearer, cli, cli_error
from tests.factories import AppBackend, make_backend, make_client

TOKEN_URL = "/realms/default/token"


@pytest.fixture
def backend(app):
    make_backend(app)
    return AppBackend(app, user_id_claim="email", provisioning="create")


def exchange(client, backend, clock, sub: str, email: str) -> dict:
    assertion = backend.assertion(sub, now=clock(), email=email, email_verified=True, name=sub.title())
    response = client.post(TOKEN_URL, data=backend.exchange_form(assertion, audience="chat-api"))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def ctx() -> RealmContext:
    return RealmContext(realm=get_realm("default"), issuer="http://auth.test/realms/default", state=app_state())


def add_merged_anonymous(app, into_uid: str) -> str:
    """An anonymous user with a device session, merged into ``into_uid`` (a second device)."""
    make_client(app, client_id="chat-web", auth_method="none", audiences=["chat-api"], allow_anonymous=True)
    with app.app_context():
        new = create_anonymous_session(ctx(), get_client(get_realm("default"), "chat-web"), "10.0.0.1",
                                       {"name": "Phone of Alice", "email": "phone@example.test"})
        new.user.state, new.user.merged_into = "merged", into_uid
        db.session.commit()
        return new.user.uid


def test_delete_erases_links_sessions_and_the_merged_anonymous_user(app, client, backend, clock):
    token = exchange(client, backend, clock, "alice", "alice@example.test")["access_token"]
    exchange(client, backend, clock, "bob", "bob@example.test")
    with app.app_context():
        alice = users.get_user(get_realm("default"), "alice@example.test")
        uid, pk = alice.uid, alice.id
    phone = add_merged_anonymous(app, uid)
    with app.app_context():
        assert count(DeviceSession) == 1 and count(IdentityLink) == 2
        before = report(get_realm("default"), None, clock())

        assert users.delete_user(get_realm("default"), "alice@example.test", "test") == {
            "_id": uid, "user_id": "alice@example.test"}

        assert count(User, User.uid.in_([uid, phone])) == 0
        assert count(IdentityLink, IdentityLink.user_pk == pk) == 0 and count(IdentityLink) == 1
        assert count(DeviceSession) == 0
        assert report(get_realm("default"), None, clock()) == before  # usage keeps the counts…
        assert count(MonthlyUsage, MonthlyUsage.user_pk == pk) == 0  # …and nothing points at alice
        assert active_claims(ctx(), token) is None  # her tokens stop being active
        deleted = [e.data for e in db.session.scalars(select(Event).where(Event.type == "user.deleted"))]
        assert deleted == [{"_id": uid, "user_id": "alice@example.test"}, {"_id": phone, "user_id": None}]
        stored = json.dumps([e.data for e in db.session.scalars(select(Event))])
        assert "Alice" not in stored and "phone@example.test" not in stored  # profiles forgotten
        assert uid in stored  # identifiers kept
        entry = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "user.delete")).one()
        assert (entry.actor, entry.target_id, entry.before) == ("test", uid, deleted[0])
        assert entry.after == {"merged_users_deleted": [phone]}


def test_the_same_upstream_account_logging_in_again_is_a_new_user(app, client, backend, clock):
    exchange(client, backend, clock, "alice", "alice@example.test")
    with app.app_context():
        old = users.get_user(get_realm("default"), "alice@example.test").uid
        users.delete_user(get_realm("default"), old, "test")
    exchange(client, backend, clock, "alice", "alice@example.test")
    with app.app_context():
        new = users.get_user(get_realm("default"), "alice@example.test")
        assert new.uid != old and new.name == "Alice"
        # counted again although SQLite may give the new row the erased one's id
        assert report(get_realm("default"), None, clock())["active_users"] == 2


def test_an_erased_users_months_stay_apart(app, client, backend, clock):
    exchange(client, backend, clock, "alice", "alice@example.test")
    clock.advance(31 * 86400)
    exchange(client, backend, clock, "alice", "alice@example.test")
    with app.app_context():
        users.delete_user(get_realm("default"), "alice@example.test", "test")
        refs = db.session.execute(select(MonthlyUsage.month, MonthlyUsage.erased_ref)).all()
        assert len({ref for _, ref in refs}) == 2 and all(ref for _, ref in refs)
        assert [report(get_realm("default"), m, clock())["active_users"] for m in ("2027-01", "2027-02")] == [1, 1]


def test_delete_through_the_cli_and_the_admin_api(app, runner, client, backend, clock):
    exchange(client, backend, clock, "alice", "alice@example.test")
    exchange(client, backend, clock, "bob", "bob@example.test")
    headers = bearer(admin_token(runner, client))
    assert cli(runner, "users", "delete", "--realm", "default", "alice@example.test") == {
        "deleted": "alice@example.test"}
    assert client.delete("/admin/realms/default/users/bob@example.test", headers=headers).status_code == 204
    assert client.get("/admin/realms/default/users/bob@example.test", headers=headers).status_code == 404
    assert cli_error(runner, "users", "delete", "--realm", "default", "alice@example.test") == (
        "Error: no user 'alice@example.test' in realm 'default'")
    audit = client.get("/admin/realms/default/audit?limit=2", headers=headers).get_json()
    assert [(e["action"], e["actor"]) for e in audit] == [("user.delete", "client:admin-cli"), ("user.delete", "cli")]
