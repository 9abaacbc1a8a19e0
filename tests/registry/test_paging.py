"""Paging (``limit`` + an opaque ``cursor``) and filters on every admin list, in the service
(authserver.registry.paging), the admin API (a ``Link: rel="next"`` header) and the CLI."""

from __future__ import annotations

import base64
import json

import pytest
from sqlalchemy import select

from authserver.admin.openapi import PARAMETERS, PATHS
from authserver.cli import main
from authserver.errors import InvalidInput
from authserver.extensions import db
from authserver.models import AuditEvent, User
from authserver.registry import audit, clients, paging
from authserver.registry.realms import get_realm
from tests.cli_helpers import admin_token, bearer, cli, cli_error
from tests.factories import make_backend, make_client, make_idp


def names(rows, key="client_id"):
    return [row[key] if isinstance(row, dict) else getattr(row, key) for row in rows]


@pytest.fixture
def five_clients(app):
    for n in range(5):
        make_client(app, client_id=f"client-{n}", name=f"c{n}", auth_method="none" if n % 2 else "client_secret_basic")


def test_pages_follow_each_other_without_repeats_or_gaps(app, five_clients):
    with app.app_context():
        realm = get_realm("default")
        first = clients.list_clients(realm, 2)
        assert names(first) == ["client-0", "client-1"] and first.next_cursor
        second = clients.list_clients(realm, 2, first.next_cursor)
        clients.create_client(realm, {"name": "late", "client_id": "client-00"}, "test")  # sorts before the cursor
        third = clients.list_clients(realm, 2, second.next_cursor)
        assert names(second) == ["client-2", "client-3"] and names(third) == ["client-4"]
        assert third.next_cursor is None
        assert names(clients.list_clients(realm, 100)) == ["client-0", "client-00", "client-1", "client-2",
                                                            "client-3", "client-4"]


def test_filters(app, five_clients):
    with app.app_context():
        realm = get_realm("default")
        assert names(clients.list_clients(realm, auth_method="none")) == ["client-1", "client-3"]
        clients.set_disabled(realm, "client-2", True, "test")
        assert names(clients.list_clients(realm, disabled="true")) == ["client-2"]
        assert len(clients.list_clients(realm, disabled=False)) == 4
        with pytest.raises(InvalidInput, match="auth_method: must be one of"):
            clients.list_clients(realm, auth_method="password")
        with pytest.raises(InvalidInput, match="disabled: must be true or false"):
            clients.list_clients(realm, disabled="yes")


@pytest.mark.parametrize("cursor", [
    "not a cursor", "x" * 600, "", "!!", base64.urlsafe_b64encode(b"[1,2]").decode(),
    base64.urlsafe_b64encode(json.dumps(["users", [3]]).encode()).decode(),  # another list's
    base64.urlsafe_b64encode(json.dumps(["clients", [True]]).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps(["clients", ["a", "b"]]).encode()).decode()])
def test_a_cursor_of_another_list_or_made_up_is_refused(app, cursor):
    with app.app_context(), pytest.raises(InvalidInput, match="cursor: not a cursor of this list"):
        clients.list_clients(get_realm("default"), 2, cursor)


def test_descending_lists_page_backwards(app, five_clients):
    with app.app_context():
        realm = get_realm("default")
        first = audit.list_events(realm, 2)
        ids = [e.id for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()))]
        assert [e.id for e in first] == ids[:2]
        assert [e.id for e in audit.list_events(realm, 10, first.next_cursor)] == ids[2:]
        assert names(audit.list_events(realm, action="realm.create"), "action") == ["realm.create"]
        assert len(audit.list_events(realm, actor="test", target_type="client", target_id="client-3")) == 1


def test_users_filters(app):
    with app.app_context():
        realm = get_realm("default")
        db.session.add_all([
            User(realm_id=realm.id, uid="a" * 24, user_id="alice", email="Alice@Example.test", created_at=1),
            User(realm_id=realm.id, uid="b" * 24, user_id="bob", state="disabled", created_at=1)])
        db.session.commit()
    headers = bearer(admin_token(app.test_cli_runner(), app.test_client()))
    client = app.test_client()
    for query, expected in (("email=alice@example.TEST", ["alice"]), ("user_id=bob", ["bob"]),
                            ("_id=" + "a" * 24, ["alice"]), ("state=disabled", ["bob"]), ("state=merged", [])):
        answer = client.get(f"/admin/realms/default/users?{query}", headers=headers)
        assert names(answer.get_json(), "user_id") == expected, query
    assert client.get("/admin/realms/default/users?state=gone", headers=headers).status_code == 400
    runner = app.test_cli_runner()
    assert names(cli(runner, "users", "list", "--realm", "default", "--email", "ALICE@example.test"),
                 "user_id") == ["alice"]
    assert names(cli(runner, "users", "list", "--realm", "default", "--id", "b" * 24), "user_id") == ["bob"]


def test_the_admin_api_links_the_next_page(app, runner, client, five_clients):
    headers = bearer(admin_token(runner, client))
    seen, url = [], "/admin/realms/default/clients?limit=2&auth_method=none"
    answer = client.get(url, headers=headers)
    assert "Link" not in answer.headers  # two of them: one page
    url = "/admin/realms/default/clients?limit=2"
    while url:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200
        seen += names(answer.get_json())
        link = answer.headers.get("Link")
        url = link[1:link.index(">")] if link else None
        assert link is None or link.endswith('>; rel="next"') and "limit=2" in link
    assert seen == ["admin-cli", "client-0", "client-1", "client-2", "client-3", "client-4"]
    bad = client.get("/admin/realms/default/clients?cursor=nope", headers=headers)
    assert bad.status_code == 400 and bad.get_json()["error_description"].startswith("cursor:")
    assert client.get("/admin/realms/default/clients?limit=1001", headers=headers).status_code == 400


def test_the_cli_pages_and_says_how_to_go_on(app, runner, five_clients):
    result = runner.invoke(main, ["clients", "list", "--realm", "default", "--limit", "3", "--json"])
    assert result.exit_code == 0
    assert names(json.loads(result.stdout)) == ["client-0", "client-1", "client-2"]
    cursor = result.stderr.strip().removeprefix("More: run again with --cursor ")
    rest = cli(runner, "clients", "list", "--realm", "default", "--limit", "3", "--cursor", cursor)
    assert names(rest) == ["client-3", "client-4"]
    assert cli_error(runner, "clients", "list", "--realm", "default", "--cursor", "x").startswith(
        "Error: cursor: not a cursor of this list")
    assert cli_error(runner, "clients", "list", "--realm", "default", "--limit", "0").startswith("Error: Invalid value")


def test_every_list_pages_and_filters_through_the_cli(app, runner):
    make_backend(app)
    make_backend(app, audience="matrix-hs", scopes="chat:read", default_scopes="chat:read", profile="matrix",
                 credential={"server_name": "matrix.example"})
    make_idp(app, name="corp", type="oidc", config={"issuer": "https://idp.example", "client_ids": ["web"]})
    make_idp(app, name="app", type="backend_assertion", client_id=make_client(app, client_id="web", name="w")[
        "client_id"])
    cli(runner, "realms", "create", "second")
    cli(runner, "keys", "rotate", "--realm", "default")
    cli(runner, "webhooks", "create", "--realm", "default", "--url", "https://hooks.example/in", "--disabled")
    r = ("--realm", "default")
    assert names(cli(runner, "realms", "list", "--limit", "1"), "name") == ["default"]
    assert names(cli(runner, "backends", "list", *r, "--profile", "matrix"), "audience") == ["matrix-hs"]
    assert names(cli(runner, "idps", "list", *r, "--type", "oidc"), "name") == ["corp"]
    assert names(cli(runner, "idps", "list", *r, "--limit", "1"), "name") == ["app"]
    assert names(cli(runner, "keys", "list", *r, "--state", "next"), "state") == ["next"]
    assert len(cli(runner, "keys", "list", *r, "--limit", "1")) == 1
    assert cli(runner, "webhooks", "list", "--enabled") == []
    assert len(cli(runner, "webhooks", "list", *r, "--disabled")) == 1
    assert names(cli(runner, "audit", *r, "--action", "webhook.create"), "action") == ["webhook.create"]
    assert cli(runner, "webhooks", "deliveries", *r, "--limit", "5") == []


def test_every_list_of_the_openapi_document_declares_paging_and_filters():
    lists = [(path, op) for path, ops in PATHS.items() for method, op in ops.items()
             if method == "get" and op["responses"]["200"].get("content", {}).get("application/json", {}).get(
                 "schema", {}).get("type") == "array"]
    assert len(lists) == 10
    for path, op in lists:
        params = {PARAMETERS[ref["$ref"].rsplit("/", 1)[1]]["name"] for ref in op["parameters"]}
        assert {"limit", "cursor"} <= params, path
        assert "Link" in op["responses"]["200"]["headers"] and "400" in op["responses"], path
    assert PARAMETERS["limit"]["schema"]["maximum"] == paging.MAX_LIMIT
