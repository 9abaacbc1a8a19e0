"""The outbox: every admin change and revocation writes its event in its own transaction;
a rolled-back change publishes nothing; payloads never carry secrets."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from authserver.errors import Conflict
from authserver.events import outbox
from authserver.extensions import db
from authserver.identity.users import set_user_disabled
from authserver.models import DeviceSession, Event, User, WebhookDelivery
from authserver.registry import backends, clients, idps
from authserver.registry.realms import get_realm
from authserver.tokens.revocation import revoke_client_tokens, revoke_user_tokens
from tests.events.conftest import subscribe
from tests.factories import make_backend, make_client


def events(app, type_prefix: str = "") -> list[Event]:
    with app.app_context():
        rows = db.session.scalars(select(Event).order_by(Event.id))
        return [e for e in rows if e.type.startswith(type_prefix)]


def types(app, prefix: str = "") -> list[str]:
    return [e.type for e in events(app, prefix)]


def test_admin_changes_publish_their_events(app):
    make_backend(app)
    created = make_client(app, client_id="web", audiences=["chat-api"])
    with app.app_context():
        realm = get_realm("default")
        clients.update_client(realm, "web", {"name": "Web app"}, "cli")
        clients.rotate_secret(realm, "web", "cli")
        backends.update_backend(realm, "chat-api", {"token_ttl": 300}, "cli")
        idp, _ = idps.create_idp(realm, {"name": "app", "type": "backend_assertion", "client_id": "web"}, "cli")
        idps.update_idp(realm, "app", {"trust": "unverified"}, "cli")
        idps.delete_idp(realm, "app", "cli")
        clients.delete_client(realm, "web", "cli")
        backends.delete_backend(realm, "chat-api", "cli")
    assert types(app, "client.") == ["client.created", "client.updated", "client.updated", "client.deleted"]
    assert types(app, "backend.") == ["backend.created", "backend.updated", "backend.deleted"]
    assert types(app, "idp.") == ["idp.created", "idp.updated", "idp.deleted"]
    first = events(app, "client.")[0]
    assert first.data["client_id"] == "web" and first.actor == "test"
    assert created["client_secret"] not in str([e.data for e in events(app)])
    assert all("secret" not in key for e in events(app) for key in e.data if not key.endswith("_secret_set"))


def test_a_rolled_back_change_publishes_nothing(app, receiver):
    subscribe(app, receiver)
    make_client(app, client_id="web")
    with app.app_context(), pytest.raises(Conflict):
        clients.create_client(get_realm("default"), {"client_id": "web", "name": "again"}, "cli")
    with app.app_context():
        realm = get_realm("default")
        outbox.publish(realm, "client.updated", {"client_id": "web"}, "cli")
        db.session.rollback()
        assert db.session.scalars(select(WebhookDelivery)).all().__len__() == 1
    assert types(app) == ["client.created"]


def test_revocations_and_user_state(app):
    make_client(app, client_id="web")
    with app.app_context():
        realm = get_realm("default")
        user = User(realm_id=realm.id, uid="u" * 24, user_id="alice", verified=True, workspaces=[],
                    state="active", created_at=0)
        db.session.add(user)
        db.session.flush()
        db.session.add(DeviceSession(realm_id=realm.id, sid="s1", token_hash="h" * 64, user_pk=user.id,
                                     client_id="web", source_address="127.0.0.1", created_at=0))
        db.session.commit()
        set_user_disabled(realm, "alice", True, "cli")
        set_user_disabled(realm, "alice", True, "cli")  # no change, no event
        set_user_disabled(realm, "alice", False, "cli")
        revoke_user_tokens(realm, "alice", "cli")
        revoke_client_tokens(realm, "web", "cli")
    assert types(app, "user.") == ["user.disabled", "user.enabled", "user.tokens_revoked"]
    ended, revoked = events(app, "session.")[0], events(app, "user.tokens_revoked")[0]
    assert ended.data == {"sid": "s1", "_id": "u" * 24, "client_id": "web", "reason": "tokens_revoked"}
    assert revoked.data["_id"] == "u" * 24 and revoked.data["ended_sessions"] == ["s1"]
    assert revoked.order_key == ended.order_key == f"user:{'u' * 24}"
    assert events(app, "client.tokens_revoked")[0].data["client_id"] == "web"


def test_key_life_cycle_events(app, clock):
    with app.app_context():
        keys = app.extensions["authserver"].keys
        realm = get_realm("default")
        kid = keys.rotate(realm).kid
        clock.advance(app.config["KEY_PREPUBLICATION_SECONDS"] + 1)
        keys.maintain(realm)
    assert types(app, "key.") == ["key.rotated", "key.retired", "key.activated"]
    assert events(app, "key.activated")[0].data["kid"] == kid
    assert all("private" not in str(e.data) for e in events(app, "key."))


def test_deliveries_only_for_enabled_matching_subscriptions(app, receiver):
    users_only = subscribe(app, receiver, events="user.* client.deleted")
    everything = subscribe(app, receiver)
    paused = subscribe(app, receiver, enabled=False)
    make_client(app, client_id="web")
    with app.app_context():
        clients.delete_client(get_realm("default"), "web", "cli")
        rows = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        got = [(d.subscription.public_id, d.event.type) for d in rows]
    assert got == [(everything["id"], "client.created"), (users_only["id"], "client.deleted"),
                   (everything["id"], "client.deleted")]
    assert paused["id"] not in str(got)


def test_payloads_are_scrubbed_and_types_checked(app):
    with app.app_context():
        realm = get_realm("default")
        event = outbox.publish(realm, "client.updated", {"client_id": "x", "client_secret": "s",
                                                         "nested": [{"access_token": "t", "ok": 1}]}, "cli")
        assert event.data == {"client_id": "x", "nested": [{"ok": 1}]}
        with pytest.raises(ValueError):
            outbox.publish(realm, "user.invented", {}, "cli")
        db.session.rollback()


def test_order_keys():
    assert outbox.order_keys("user.merged", {"surviving": {"_id": "a"}, "discarded": {"_id": "b"}}) == \
        ("user:a", "user:b")
    assert outbox.order_keys("session.created", {"_id": "a", "sid": "s"}) == ("user:a", None)
    assert outbox.order_keys("backend.updated", {"audience": "chat"}) == ("backend:chat", None)
    assert outbox.order_keys("key.rotated", {"kid": "k"}) == ("keys", None)
