"""Realms shown, updated and deleted (authserver.registry.realms), through the CLI and the admin
API; a deleted realm takes its rows with it, everywhere."""

from __future__ import annotations

from sqlalchemy import func, select

from authserver.extensions import db
from authserver.models import AuditEvent, Client, MonthlyUsage, Realm, SigningKey, User
from authserver.registry import clients, realms
from authserver.registry.realms import get_realm
from tests.cli_helpers import admin_token, bearer, cli, cli_error
from tests.factories import AppBackend, make_backend

COUNTS = {"clients": 0, "backends": 0, "idps": 0, "users": 0, "webhooks": 0}


def rows(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_show_and_update(app, runner, client):
    headers = bearer(admin_token(runner, client))
    cli(runner, "realms", "create", "support")
    shown = cli(runner, "realms", "show", "support")
    assert shown == {"name": "support", "display_name": None, "created_at": shown["created_at"],
                     "updated_at": shown["created_at"], "admin_realm": False, "counts": COUNTS}
    assert client.get("/admin/realms/support", headers=headers).get_json() == shown
    updated = cli(runner, "realms", "update", "support", "--display-name", "Support chat")
    assert updated["display_name"] == "Support chat"
    answer = client.patch("/admin/realms/support", headers=headers, json={"display_name": None})
    assert answer.status_code == 200 and answer.get_json()["display_name"] is None
    assert client.patch("/admin/realms/support", headers=headers, json={"name": "x"}).status_code == 400
    assert client.get("/admin/realms/nope", headers=headers).status_code == 404
    audit = cli(runner, "audit", "--realm", "support")
    assert [(e["action"], e["actor"]) for e in audit][:2] == [("realm.update", "client:admin-cli"),
                                                               ("realm.update", "cli")]
    assert audit[1]["after"]["display_name"] == "Support chat"
    assert cli(runner, "realms", "show", "default")["admin_realm"] is True


def test_delete_needs_yes_and_takes_every_row_with_it(app, runner, client, clock):
    cli(runner, "realms", "create", "doomed")
    with app.app_context():
        realm = get_realm("doomed")
        clients.create_client(realm, {"name": "web", "client_id": "web"}, "test")
        db.session.add(User(realm_id=realm.id, uid="u" * 24, user_id="alice", created_at=1))
        db.session.commit()
        db.session.add(MonthlyUsage(realm_id=realm.id, month="2027-01", user_pk=db.session.scalar(
            select(User.id)), client_id="web", idp="-", anonymous=False))
        db.session.commit()
    assert cli_error(runner, "realms", "delete", "doomed") == (
        "Error: realm 'doomed' holds 0 backends, 1 clients, 0 idps, 1 users, 0 webhooks: add --yes to delete "
        "it and all of that")
    deleted = cli(runner, "realms", "delete", "doomed", "--yes")
    assert deleted == {"deleted": "doomed", "counts": {**COUNTS, "clients": 1, "users": 1}}
    with app.app_context():
        assert db.session.scalar(select(Realm).where(Realm.name == "doomed")) is None
        for model in (Client, User, MonthlyUsage):
            assert rows(model) == 0, model
        assert rows(SigningKey) == 1  # default's
        entry = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (entry.realm_id, entry.action, entry.target_id, entry.actor) == (
            get_realm("default").id, "realm.delete", "doomed", "cli")
        assert entry.before["counts"]["clients"] == 1
    assert client.get("/realms/doomed/.well-known/openid-configuration").status_code == 404
    assert cli_error(runner, "realms", "show", "doomed") == "Error: no realm named 'doomed'"
    assert cli(runner, "realms", "create", "doomed")["name"] == "doomed"  # the name is free again


def test_admin_realm_cannot_be_deleted(app, runner, client):
    message = "Error: realm 'default' is ADMIN_REALM: its admin clients administer every realm, so it cannot be deleted"
    assert cli_error(runner, "realms", "delete", "default") == message
    assert cli_error(runner, "realms", "delete", "default", "--yes") == message
    headers = bearer(admin_token(runner, client))
    assert client.delete("/admin/realms/default", headers=headers).status_code == 409
    assert client.delete("/admin/realms/nope", headers=headers).status_code == 404


def test_only_admin_realm_tokens_administer_realms(app, runner, client):
    cli(runner, "realms", "create", "tenant")
    own = bearer(admin_token(runner, client, realm="tenant"))
    assert client.get("/admin/realms/tenant/clients", headers=own).status_code == 200  # its own objects
    for method in ("get", "patch", "delete"):
        answer = getattr(client, method)("/admin/realms/tenant", headers=own, json={})
        assert answer.status_code == 401, method  # the realm itself: ADMIN_REALM's business
    headers = bearer(admin_token(runner, client))
    assert client.delete("/admin/realms/tenant", headers=headers).status_code == 204
    assert client.get("/admin/realms/tenant", headers=headers).status_code == 404


def test_another_process_sees_a_deleted_and_recreated_realm(make_app, clock):
    """A process keeps realm rows for KEY_CACHE_SECONDS; past that it reads the new row."""
    first, second = make_app(), make_app()
    with first.app_context():
        realms.create_realm("default")
        realms.create_realm("tenant")
        realms.create_realm("other")  # SQLite would give a re-created last row the same id
    make_backend(first)
    backend = AppBackend(first)
    with second.app_context():
        old_id = get_realm("tenant").id  # cached by the second process
    with first.app_context():
        realms.delete_realm("tenant", "test")
        realms.create_realm("tenant")
        new_id = get_realm("tenant").id
    assert new_id != old_id
    with second.app_context():
        assert get_realm("tenant").id == old_id  # trusted for a while…
    clock.advance(second.config["KEY_CACHE_SECONDS"])
    with second.app_context():
        assert get_realm("tenant").id == new_id  # …then read again
        clients.create_client(get_realm("tenant"), {"name": "web"}, "test")
    assert backend.client_id  # the default realm was untouched


def test_a_known_realm_is_served_from_memory_while_the_database_is_down(app, clock):
    """Past KEY_CACHE_SECONDS the row is read again; when that read fails, the copy serves on."""
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    def down(conn, cursor, statement, *args):
        raise OperationalError(statement, {}, ConnectionError("server closed the connection"))

    with app.app_context():
        known = get_realm("default").id
        clock.advance(app.config["KEY_CACHE_SECONDS"])
        event.listen(db.engine, "before_cursor_execute", down)
        try:
            assert get_realm("default").id == known
        finally:
            event.remove(db.engine, "before_cursor_execute", down)
