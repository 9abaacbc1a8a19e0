"""The realm a request is bound to (authserver/edge/realm_binding.py) is the process's
immutable snapshot of its row (authserver/registry/realms.py): a warm token request neither
reads the realm row nor attaches anything of it to its session. The snapshot keeps the realm
rows' documented staleness bound: this process sees its own change at once, another one
within KEY_CACHE_SECONDS."""

from __future__ import annotations

import dataclasses

import pytest
from flask import g
from sqlalchemy import event
from sqlalchemy.orm import Session

from authserver.extensions import db
from authserver.models import Realm
from authserver.registry.realms import RealmSnapshot, create_realm, get_realm, update_realm
from tests.factories import basic_auth, make_backend, make_client

TOKEN = "/realms/default/token"


@pytest.fixture
def service(app):
    make_backend(app)
    made = make_client(app, client_id="service", audiences=["chat-api"], scopes="chat:read")
    return basic_auth("service", made["client_secret"])


def credentials(client, headers):
    return client.post(TOKEN, data={"grant_type": "client_credentials", "audience": "chat-api"}, headers=headers)


def test_a_warm_token_request_binds_an_immutable_snapshot(app, service):
    with app.test_client() as client:
        assert credentials(client, service).status_code == 200
        realm = g.realm
        assert isinstance(realm, RealmSnapshot) and g.realm_ctx.realm is realm
        assert (realm.name, realm.display_name) == ("default", None)
        with pytest.raises(dataclasses.FrozenInstanceError):
            realm.display_name = "changed"  # type: ignore[misc]


def test_a_warm_token_request_neither_reads_nor_attaches_the_realm_row(app, service):
    client = app.test_client()
    assert credentials(client, service).status_code == 200  # the caches are warm from here on
    attached, statements = [], []

    def on_attach(session, instance):
        attached.append(instance)

    def on_execute(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(Session, "after_attach", on_attach)
    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        for _ in range(3):
            assert credentials(client, service).status_code == 200
    finally:
        event.remove(Session, "after_attach", on_attach)
        event.remove(engine, "before_cursor_execute", on_execute)
    assert not [row for row in attached if isinstance(row, Realm)]
    assert not [sql for sql in statements if "realms" in sql.lower()]


def test_get_realm_still_gives_a_mapped_row_for_the_admin_services(app):
    with app.app_context():
        realm = get_realm("default")
        assert isinstance(realm, Realm) and realm in db.session
        assert realm.display_name is None  # loads on demand


def title_of(app) -> str:
    """The realm's name as the browser pages show it (an error page of /authorize)."""
    page = app.test_client().get("/realms/tenant/authorize", query_string={"client_id": "nobody"})
    text = page.get_data(as_text=True)
    return text[text.index("<title>") + len("<title>"):text.index("</title>")]


def test_a_display_name_change_is_seen_here_at_once_elsewhere_within_key_cache_seconds(make_app, clock):
    first, second = make_app(), make_app()
    with first.app_context():
        create_realm("tenant")
    assert title_of(first).endswith("tenant") and title_of(second).endswith("tenant")  # both hold a snapshot
    with first.app_context():
        update_realm("tenant", {"display_name": "Tenant chat"}, "test")
    assert title_of(first).endswith("Tenant chat")  # the changing process forgets its snapshot
    assert title_of(second).endswith("tenant")  # another process trusts its snapshot a while…
    clock.advance(second.config["KEY_CACHE_SECONDS"])
    assert title_of(second).endswith("Tenant chat")  # …then reads the row again
