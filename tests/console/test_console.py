"""The admin console at ``/console`` through Flask's test client (in process, no browser, no
network): what ``test_console_browser.py`` does not walk.

* sign-in: the one-time link (shown by GET, spent once by POST, expiring, stored as a hash),
  the session cookie's attributes, the ``ADMIN_REALM`` callback's refusals, sign-out;
* guards: no session (sign-in page, nothing done), CSRF (missing or another session's),
  strict form bodies (a repeated field, invalid UTF-8), console roles (viewer looks, admin
  changes; the role is read again on every request), a link scoped to one realm;
* actions over the services: a client's secret shown once, rotated, deletion confirmed; a
  chat backend's credential never shown back; a service's refusal shown with its status and
  nothing written; the audit actor ``console:link:<id>``;
* users (search, paging, identity links, merge history, revoke tokens, bad queries), the
  usage CSV, explain writing nothing, and the security headers of every page.
"""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from authserver.cli import main
from authserver.console.web import SESSION_COOKIE
from authserver.extensions import db
from authserver.models import ConsoleLink, ConsoleSession, User, WebhookDelivery
from authserver.plugin_api import TOKEN_TYPE_JWT
from authserver.registry.realms import create_realm, get_realm
from tests.cli_helpers import TOKEN_URL, admin_token, basic, bearer, cli, cli_error
from tests.console.console_helpers import (
    CONSOLE,
    REALM_TABS,
    link_actor,
    link_path,
    new_link,
    next_page_href,
    post,
    post_raw,
    realm_page,
    seed_users,
    session_cookie,
    sign_in,
    sign_in_as_user,
    use_cookie,
    user_rows,
)
from tests.factories import AppBackend, make_backend
from tests.grants.test_explain import every_row_as_text, row_counts
from tests.plugins.profiles.helpers import STREAM_SECRET

SIGN_IN = f"{CONSOLE}/sign-in"
AUDIENCE = "chat-api"



def client_ids(runner, realm: str = "default") -> list[str]:
    return [row["client_id"] for row in cli(runner, "clients", "list", "--realm", realm)]


def assert_signed_out(response) -> None:
    assert response.status_code == 303 and response.headers["Location"] == SIGN_IN, response.text


@pytest.fixture
def admin_csrf(client, runner):
    """The test client signed in with a one-time link (every realm, admin role)."""
    return sign_in(client, runner)


@pytest.fixture
def chat_api(app):
    return make_backend(app)


@pytest.fixture
def app_backend(app, chat_api):
    """A backend_assertion connection ``app`` and its confidential client ``app-backend``."""
    return AppBackend(app)


@pytest.fixture
def issue(client, app_backend, clock):
    """An access token for ``sub`` through the token exchange (the user is created and linked)."""

    def exchange(sub: str = "erin") -> str:
        response = client.post(TOKEN_URL, data=app_backend.exchange_form(
            app_backend.assertion(sub=sub, now=clock()), audience=AUDIENCE))
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    return exchange


@pytest.fixture
def introspect(client, runner, chat_api):
    checker = cli(runner, "clients", "create", "--realm", "default", "--name", "checker", "--serves", AUDIENCE,
                  "--grant-type", "client_credentials")

    def check(token: str) -> bool:
        response = client.post("/realms/default/introspect", data={"token": token},
                               headers=basic(checker["client_id"], checker["client_secret"]))
        assert response.status_code == 200, response.get_json()
        return response.get_json()["active"]

    return check


def new_client_form(**extra: str) -> dict:
    return {"name": "Service", "auth_method": "client_secret_basic", "audiences": AUDIENCE, "scopes": "chat:read",
            "form": {"grant:client_credentials": "yes"}, **extra}


def secret_on(page_html: str, element: str = "client-secret") -> str | None:
    """The secret a page shows once, if it shows one."""
    found = re.search(rf'<code id="{element}">([^<]+)</code>', page_html)
    return found.group(1) if found else None


def client_credentials(client, client_id: str, secret: str):
    return client.post(TOKEN_URL, headers=basic(client_id, secret),
                       data={"grant_type": "client_credentials", "audience": AUDIENCE})


# --- 1. the one-time link --------------------------------------------------------------------


def test_console_link_prints_a_url_and_its_expiry(app, runner, clock):
    link = new_link(runner)
    assert set(link) == {"url", "expires_at"}
    assert link["url"].startswith("http://auth.test/console/link/")
    assert link["expires_at"] == int(clock()) + app.config["CONSOLE_LINK_SECONDS"]
    assert new_link(runner, "--url", "https://admin.example/")["url"].startswith("https://admin.example/console/link/")


def test_get_shows_a_button_and_post_spends_the_link_once(client, runner):
    path = link_path(new_link(runner))
    for _ in range(2):  # a link preview (GET) does not spend it
        shown = client.get(path)
        assert shown.status_code == 200
        assert f'<form method="post" action="{path}">' in shown.text and 'id="use-link"' in shown.text
        assert session_cookie(client) is None
    spent = client.post(path)
    assert spent.status_code == 303 and spent.headers["Location"] == CONSOLE
    cookie = spent.headers["Set-Cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes and attributes["samesite"] == "SameSite=Strict"
    assert attributes["path"] == "Path=/console"
    assert client.get(CONSOLE).status_code == 200
    again = client.post(path)
    assert again.status_code == 403 and "already used" in again.text


def test_an_expired_link_is_refused(app, client, runner, clock):
    lifetime = app.config["CONSOLE_LINK_SECONDS"]
    fresh, stale = link_path(new_link(runner)), link_path(new_link(runner))
    clock.advance(lifetime - 1)
    assert client.post(fresh).status_code == 303
    clock.advance(1)
    refused = client.post(stale)
    assert refused.status_code == 403 and "expired" in refused.text


@pytest.mark.parametrize("token", ["not-a-link", "A" * 43, "x" * 500])
def test_an_unknown_link_is_refused(client, token):
    refused = client.post(f"{CONSOLE}/link/{token}")
    assert refused.status_code == 403 and session_cookie(client) is None


def test_only_hashes_of_links_and_session_cookies_are_stored(app, client, runner):
    path = link_path(new_link(runner))
    token = path.rsplit("/", 1)[1]
    client.post(path)
    cookie = session_cookie(client)
    with app.app_context():
        rows = [tuple(row) for table in (ConsoleLink.__table__, ConsoleSession.__table__)
                for row in db.session.execute(select(table))]
    assert len(rows) == 2
    assert token not in str(rows) and cookie not in str(rows)
    assert token not in every_row_as_text(app) and cookie not in every_row_as_text(app)


# --- 2. not signed in ------------------------------------------------------------------------


@pytest.mark.parametrize("path", [CONSOLE, f"{CONSOLE}/realms", *(realm_page(tab) for tab in REALM_TABS),
                                  realm_page("users/someone"), realm_page("usage.csv")])
def test_every_page_sends_a_visitor_to_sign_in(client, path):
    assert_signed_out(client.get(path))


def test_a_post_without_a_session_does_nothing(app, client, runner, chat_api):
    before = row_counts(app)
    assert_signed_out(post(client, realm_page("clients"), "forged", **new_client_form()))
    assert_signed_out(post(client, f"{CONSOLE}/realms", "forged", name="sneaky"))
    use_cookie(client, "not-a-session")
    assert_signed_out(post(client, realm_page("clients"), "forged", **new_client_form()))
    assert row_counts(app) == before and client_ids(runner) == []


# --- 3. CSRF ---------------------------------------------------------------------------------


def test_an_action_needs_the_csrf_of_its_own_session(app, client, runner, chat_api, admin_csrf):
    other_csrf = sign_in(app.test_client(), runner)
    before = row_counts(app)
    for csrf in (None, "", other_csrf, admin_csrf[:-1]):
        refused = post(client, realm_page("clients"), csrf, **new_client_form())
        assert refused.status_code == 403 and "CSRF" in refused.text
    assert row_counts(app) == before and client_ids(runner) == []
    created = post(client, realm_page("clients"), admin_csrf, **new_client_form(client_id="svc"))
    assert created.status_code == 200 and client_ids(runner) == ["svc"]


# --- 4. strict form bodies -------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"name=one&name=two&auth_method=none", b"name=%FF&auth_method=none",
                                  b"name=a%00b&auth_method=none"])
def test_a_malformed_action_body_is_400_and_writes_nothing(app, client, runner, admin_csrf, body):
    before = row_counts(app)
    refused = post_raw(client, realm_page("clients"), body + f"&csrf={admin_csrf}".encode())
    assert refused.status_code == 400
    assert row_counts(app) == before and client_ids(runner) == []


def test_a_repeated_csrf_field_is_refused(app, client, runner, admin_csrf):
    refused = post_raw(client, realm_page("clients"), f"name=x&auth_method=none&csrf={admin_csrf}"
                                                      f"&csrf={admin_csrf}".encode())
    assert refused.status_code == 400 and client_ids(runner) == []


def test_a_body_too_large_or_not_a_form_is_refused(app, client, runner, admin_csrf):
    before = row_counts(app)
    too_large = post_raw(client, realm_page("clients"), b"name=" + b"x" * 70_000 + f"&csrf={admin_csrf}".encode())
    assert too_large.status_code == 413
    as_json = client.post(realm_page("clients"), json={"csrf": admin_csrf, "name": "x", "auth_method": "none"})
    assert as_json.status_code == 400 and "x-www-form-urlencoded" in as_json.text
    assert row_counts(app) == before and client_ids(runner) == []


def test_a_malformed_link_body_does_not_spend_the_link(client, runner):
    path = link_path(new_link(runner))
    refused = post_raw(client, path, b"a=1&a=2")
    assert refused.status_code == 400 and session_cookie(client) is None
    assert client.post(path).status_code == 303


# --- 5. console roles ------------------------------------------------------------------------


@pytest.fixture
def vera(app) -> str:
    """A user of ADMIN_REALM ("default"); her _id."""
    return seed_users(app, 1)[0]


def role_of(app, uid: str) -> str | None:
    with app.app_context():
        return db.session.scalar(select(User.console_role).where(User.uid == uid))


def test_roles_are_granted_by_the_cli_and_the_api(app, client, runner, vera):
    shown = cli(runner, "users", "set-console-role", "--realm", "default", vera, "viewer")
    assert shown == {"_id": vera, "user_id": "user-00", "console_role": "viewer"}
    headers = bearer(admin_token(runner, client))
    answer = client.put(f"/admin/realms/default/users/{vera}/console-role", headers=headers, json={"role": "admin"})
    assert answer.status_code == 200 and answer.get_json()["console_role"] == "admin"
    assert role_of(app, vera) == "admin"
    answer = client.put(f"/admin/realms/default/users/{vera}/console-role", headers=headers, json={"role": None})
    assert answer.status_code == 200 and role_of(app, vera) is None


def test_roles_outside_admin_realm_or_unknown_are_refused(app, client, runner, vera):
    cli(runner, "realms", "create", "other")
    assert "ADMIN_REALM" in cli_error(runner, "users", "set-console-role", "--realm", "other", vera, "viewer")
    headers = bearer(admin_token(runner, client))
    refused = client.put(f"/admin/realms/other/users/{vera}/console-role", headers=headers, json={"role": "viewer"})
    assert refused.status_code == 400 and "ADMIN_REALM" in refused.get_json()["error_description"]
    assert "owner" in cli_error(runner, "users", "set-console-role", "--realm", "default", vera, "owner")
    for role in ("owner", "", 1, ["admin"]):
        refused = client.put(f"/admin/realms/default/users/{vera}/console-role", headers=headers, json={"role": role})
        assert refused.status_code == 400 and refused.is_json, role
    assert client.put(f"/admin/realms/default/users/{vera}/console-role", headers=headers,
                      json={}).status_code == 400
    assert role_of(app, vera) is None


@pytest.fixture
def erin(runner, issue) -> str:
    """A user of "default" who logged in through the ``app`` connection; her _id."""
    issue("erin")
    return cli(runner, "users", "list", "--realm", "default")[0]["_id"]


def changing_actions() -> list:
    """Every console action that changes something, on objects that exist (``{uid}``: erin,
    ``{kid}``: the active key, ``{delivery}``: a webhook delivery)."""
    plain = [(f"{CONSOLE}/realms", {"name": "new-realm"}),
             (realm_page("clients"), new_client_form()),
             (realm_page("backends"), {"audience": "other-api", "scopes": "x"}),
             (realm_page("idps"), {"name": "corp", "type": "oidc", "trust": "verified", "provisioning": "create",
                                   "issuer": "https://idp.example", "client_ids": "x"}),
             (realm_page("users/{uid}/delete"), {"confirm": "yes"}),
             (realm_page("keys/rotate"), {"alg": "ES256"}),
             (realm_page("keys/cancel-rotation"), {}),
             (realm_page("webhooks"), {"url": "https://hooks.example/other"})]
    named = [(realm_page("clients/app-backend/rotate-secret"), {}),
             (realm_page("clients/app-backend/disable"), {"disabled": "yes"}),
             (realm_page("clients/app-backend/revoke-tokens"), {}),
             (realm_page("clients/app-backend/delete"), {"confirm": "yes"}),
             (realm_page(f"backends/{AUDIENCE}/credential"), {"credential": "{}"}),
             (realm_page(f"backends/{AUDIENCE}/delete"), {"confirm": "yes"}),
             (realm_page("idps/app/disable"), {"disabled": "yes"}),
             (realm_page("idps/app/delete"), {"confirm": "yes"}),
             (realm_page("users/{uid}/disable"), {}),
             (realm_page("users/{uid}/enable"), {}),
             (realm_page("users/{uid}/revoke-tokens"), {}),
             (realm_page("keys/{kid}/retire-now"), {"confirm": "yes"}),
             (realm_page("webhook-deliveries/{delivery}/replay"), {})]
    return [pytest.param(path, fields, id=path.split("/default/")[-1]) for path, fields in plain + named]


@pytest.fixture
def viewer(app, client, runner, vera, erin):
    """The test client signed in as vera with the viewer role, every object in place; the
    CSRF token and what to put in the action URLs."""
    cli(runner, "users", "set-console-role", "--realm", "default", vera, "viewer")
    cli(runner, "webhooks", "create", "--realm", "default", "--url", "https://hooks.example/in")
    cli(runner, "clients", "create", "--realm", "default", "--name", "extra")  # an event: one delivery
    with app.app_context():
        delivery = db.session.scalar(select(WebhookDelivery.public_id))
    names = {"uid": erin, "kid": cli(runner, "keys", "list", "--realm", "default")[0]["kid"], "delivery": delivery}
    return sign_in_as_user(app, client, vera), names


def post_forms(page_html: str) -> set[str]:
    return set(re.findall(r'<form[^>]*method="post" action="([^"]+)"', page_html))


def test_a_viewer_sees_every_page_without_a_changing_form(client, viewer):
    _, names = viewer
    allowed = {f"{CONSOLE}/sign-out", realm_page("idps/app/test"), realm_page("explain")}
    for tab in (*REALM_TABS, f"users/{names['uid']}"):
        shown = client.get(realm_page(tab))
        assert shown.status_code == 200, tab
        assert post_forms(shown.text) <= allowed, tab
    assert post_forms(client.get(f"{CONSOLE}/realms").text) == {f"{CONSOLE}/sign-out"}


@pytest.mark.parametrize(("path", "fields"), changing_actions())
def test_a_viewer_may_not_change(app, client, viewer, path, fields):
    csrf, names = viewer
    before = row_counts(app)
    refused = post(client, path.format(**names), csrf, **fields)
    assert refused.status_code == 403 and "viewer" in refused.text
    assert row_counts(app) == before


def test_a_viewer_may_test_a_connection_and_explain(app, client, viewer):
    csrf, _ = viewer
    before = row_counts(app)
    tested = post(client, realm_page("idps/app/test"), csrf)
    assert tested.status_code == 200 and 'id="probe"' in tested.text and "fetch nothing" in tested.text
    explained = post(client, realm_page("explain"), csrf, client_id="app-backend", subject_token="x.y.z",
                     subject_token_type=TOKEN_TYPE_JWT)
    assert explained.status_code == 200 and 'id="explanation"' in explained.text
    assert row_counts(app) == before


def test_an_admin_user_changes_things_as_console_user(app, client, runner, vera, chat_api):
    cli(runner, "users", "set-console-role", "--realm", "default", vera, "admin")
    csrf = sign_in_as_user(app, client, vera)
    assert post(client, realm_page("clients"), csrf, **new_client_form(client_id="svc")).status_code == 200
    entry = cli(runner, "audit", "--realm", "default", "--action", "client.create")[0]
    assert entry["actor"] == f"console:user:{vera}" and entry["target_id"] == "svc"


@pytest.mark.parametrize("change", [("users", "set-console-role", "--realm", "default", "{uid}", "none"),
                                    ("users", "disable", "--realm", "default", "{uid}")])
def test_losing_the_role_or_being_disabled_signs_out_on_the_next_request(app, client, runner, vera, change):
    cli(runner, "users", "set-console-role", "--realm", "default", vera, "viewer")
    sign_in_as_user(app, client, vera)
    assert client.get(realm_page("clients")).status_code == 200
    cli(runner, *(part.format(uid=vera) for part in change))
    assert_signed_out(client.get(realm_page("clients")))


def test_a_role_change_applies_on_the_next_request(app, client, runner, vera, chat_api):
    cli(runner, "users", "set-console-role", "--realm", "default", vera, "admin")
    csrf = sign_in_as_user(app, client, vera)
    cli(runner, "users", "set-console-role", "--realm", "default", vera, "viewer")
    refused = post(client, realm_page("clients"), csrf, **new_client_form())
    assert refused.status_code == 403 and "viewer" in refused.text and client_ids(runner) == []


# --- 6. a link for one realm -----------------------------------------------------------------


def test_a_realm_link_sees_only_its_realm(app, client, runner):
    cli(runner, "realms", "create", "other")
    csrf = sign_in(client, runner, "--realm", "other")
    home = client.get(CONSOLE)
    assert "/console/realms/other/users" in home.text and "/console/realms/default/" not in home.text
    assert client.get(realm_page("clients", "other")).status_code == 200
    for tab in ("clients", "users", "usage.csv", "audit"):
        assert client.get(realm_page(tab)).status_code == 404, tab
    before = row_counts(app)
    assert post(client, realm_page("clients"), csrf, name="x", auth_method="none").status_code == 404
    refused = post(client, f"{CONSOLE}/realms", csrf, name="third")
    assert refused.status_code == 403
    assert row_counts(app) == before
    assert [realm["name"] for realm in cli(runner, "realms", "list")] == ["default", "other"]


def test_a_link_for_admin_realm_is_a_link_for_every_realm(app, client, runner):
    cli(runner, "realms", "create", "other")
    sign_in(client, runner, "--realm", "default")
    assert client.get(realm_page("clients", "other")).status_code == 200


# --- 7. actions over the services ------------------------------------------------------------


def test_a_new_client_secret_is_shown_once_and_rotation_replaces_it(client, runner, chat_api, admin_csrf):
    created = post(client, realm_page("clients"), admin_csrf, **new_client_form(client_id="svc"))
    assert created.status_code == 200
    secret = secret_on(created.text)
    assert secret and client_credentials(client, "svc", secret).status_code == 200
    listed = client.get(realm_page("clients"))
    assert "svc" in listed.text and secret not in listed.text and secret_on(listed.text) is None
    rotated = post(client, realm_page("clients/svc/rotate-secret"), admin_csrf)
    assert rotated.status_code == 200
    new_secret = secret_on(rotated.text)
    assert new_secret and new_secret != secret
    assert client_credentials(client, "svc", secret).status_code == 401
    assert client_credentials(client, "svc", new_secret).status_code == 200
    assert new_secret not in client.get(realm_page("clients")).text


def test_deleting_a_client_with_the_confirm_box(client, runner, chat_api, admin_csrf):
    post(client, realm_page("clients"), admin_csrf, **new_client_form(client_id="svc"))
    deleted = post(client, realm_page("clients/svc/delete"), admin_csrf, confirm="yes")
    assert deleted.status_code == 200 and "Client svc deleted" in deleted.text and client_ids(runner) == []


@pytest.mark.parametrize("confirm", [{}, {"confirm": "no"}, {"confirm": "on"}])
def test_deleting_a_client_without_the_confirm_box_is_refused(client, runner, chat_api, admin_csrf, confirm):
    post(client, realm_page("clients"), admin_csrf, **new_client_form(client_id="svc"))
    refused = post(client, realm_page("clients/svc/delete"), admin_csrf, **confirm)
    assert client_ids(runner) == ["svc"]
    assert refused.status_code == 400 and "Tick the box to confirm" in refused.text


def test_erasing_a_user_needs_the_confirm_box(client, runner, erin, admin_csrf):
    refused = post(client, realm_page(f"users/{erin}/delete"), admin_csrf)
    assert refused.status_code == 400 and "Tick the box to confirm" in refused.text
    assert [row["_id"] for row in cli(runner, "users", "list", "--realm", "default")] == [erin]
    erased = post(client, realm_page(f"users/{erin}/delete"), admin_csrf, confirm="yes")
    assert erased.status_code == 200 and cli(runner, "users", "list", "--realm", "default") == []


def test_a_backend_credential_is_never_shown_back(client, runner, admin_csrf):
    credential = json.dumps({"api_key": "key00001", "api_secret": STREAM_SECRET})
    created = post(client, realm_page("backends"), admin_csrf, audience="stream-chat", scopes="chat:read",
                   profile="stream", credential=credential)
    assert created.status_code == 200, created.text
    assert "set (never shown)" in created.text
    replaced = post(client, realm_page("backends/stream-chat/credential"), admin_csrf,
                    credential=json.dumps({"api_secret": STREAM_SECRET[::-1]}))
    assert replaced.status_code == 200, replaced.text
    shown = cli(runner, "backends", "show", "--realm", "default", "stream-chat")
    assert shown["profile"] == "stream" and shown["credential_set"] is True
    pages = [created, replaced, *(client.get(realm_page(tab)) for tab in REALM_TABS), client.get(CONSOLE)]
    for shown_page in pages:
        assert STREAM_SECRET not in shown_page.text and STREAM_SECRET[::-1] not in shown_page.text


def test_a_webhook_secret_is_shown_once(client, admin_csrf):
    created = post(client, realm_page("webhooks"), admin_csrf, url="https://hooks.example/in")
    secret = secret_on(created.text, "webhook-secret")
    assert created.status_code == 200 and secret
    assert secret not in client.get(realm_page("webhooks")).text


def test_an_upstream_client_secret_is_never_shown_back(client, runner, admin_csrf):
    created = post(client, realm_page("idps"), admin_csrf, name="corp", type="oidc", trust="verified",
                   provisioning="create", issuer="https://idp.example", client_ids="authserver",
                   upstream_client_id="authserver", upstream_secret="upstream-" + "s" * 30)
    assert created.status_code == 200 and "Connection corp created" in created.text
    assert cli(runner, "idps", "show", "--realm", "default", "corp")["upstream_client_id"] == "authserver"
    for shown in (created, *(client.get(realm_page(tab)) for tab in REALM_TABS)):
        assert "s" * 30 not in shown.text


@pytest.mark.parametrize("fields", [{"type": "backend_assertion", "client_id": "app-backend"},
                                    {"type": "oauth2_userinfo", "userinfo_url": "https://idp.example/me"}],
                         ids=["backend_assertion", "oauth2_userinfo"])
def test_every_offered_connection_type_can_be_created(client, runner, app_backend, admin_csrf, fields):
    shown = client.get(realm_page("idps"))
    assert f'<option value="{fields["type"]}"' in shown.text
    created = post(client, realm_page("idps"), admin_csrf, name="second", trust="verified", provisioning="create",
                   **fields)
    assert created.status_code == 200, created.text
    assert cli(runner, "idps", "show", "--realm", "default", "second")["type"] == fields["type"]


@pytest.mark.parametrize(("path", "fields", "status"), [
    (realm_page("clients/nobody/rotate-secret"), {}, 404),
    (realm_page("idps/nobody/test"), {}, 404),
    (realm_page("backends/nobody/credential"), {"credential": "[]"}, 400),
    (realm_page("users/nobody/disable"), {}, 404),
], ids=["rotate-unknown-client", "test-unknown-idp", "credential-not-an-object", "disable-unknown-user"])
def test_a_refused_action_on_a_named_object_shows_the_refusal(app, client, admin_csrf, path, fields, status):
    before = row_counts(app)
    refused = post(client, path, admin_csrf, **fields)
    assert row_counts(app) == before
    assert refused.status_code == status and 'role="alert"' in refused.text


@pytest.mark.parametrize(("fields", "status", "message"), [
    (new_client_form(client_id="app-backend"), 409, "already exists"),
    (new_client_form(audiences="no-such-api"), 400, "no-such-api"),
    (new_client_form(auth_method="telepathy"), 400, "auth_method"),
])
def test_a_service_refusal_shows_its_message_and_writes_nothing(app, client, app_backend, admin_csrf, fields,
                                                                status, message):
    before = row_counts(app)
    refused = post(client, realm_page("clients"), admin_csrf, **fields)
    assert refused.status_code == status and message in refused.text
    assert 'role="alert"' in refused.text
    assert row_counts(app) == before


def test_console_actions_are_audited_as_the_link(app, client, runner, chat_api, admin_csrf):
    post(client, realm_page("clients"), admin_csrf, **new_client_form(client_id="svc"))
    post(client, realm_page("clients/svc/disable"), admin_csrf, disabled="yes")
    actor = link_actor(app)
    entries = cli(runner, "audit", "--realm", "default", "--actor", actor)
    assert [(e["action"], e["target_id"]) for e in entries] == [("client.update", "svc"), ("client.create", "svc")]
    shown = client.get(realm_page("audit"))
    assert actor in shown.text


# --- 8. users --------------------------------------------------------------------------------


def test_users_are_found_by_user_id_email_and_id(app, client, admin_csrf):
    uids = seed_users(app, 3)
    for by, value in (("user_id", "user-01"), ("email", "user01@example.TEST"), ("_id", uids[1])):
        found = client.get(realm_page("users"), query_string={"by": by, "q": value})
        assert found.status_code == 200 and user_rows(found.text) == [uids[1]], by
    nobody = client.get(realm_page("users"), query_string={"by": "user_id", "q": "nobody"})
    assert user_rows(nobody.text) == [] and "No user found" in nobody.text


def test_users_are_paged_with_the_next_page_link(app, client, admin_csrf):
    uids = seed_users(app, 30)
    first = client.get(realm_page("users"))
    assert user_rows(first.text) == uids[:25]
    href = next_page_href(first.text)
    assert href
    second = client.get(href)
    assert second.status_code == 200 and user_rows(second.text) == uids[25:]
    assert next_page_href(second.text) is None


def test_a_user_page_lists_identity_links_and_merged_users(app, client, runner, issue, admin_csrf):
    issue("erin")
    erin = cli(runner, "users", "list", "--realm", "default")[0]
    with app.app_context():
        db.session.add(User(realm_id=get_realm("default").id, uid="merged" + "m" * 18, state="merged",
                            merged_into=erin["_id"], workspaces=[], created_at=5))
        db.session.commit()
    shown = client.get(realm_page(f"users/{erin['_id']}"))
    assert shown.status_code == 200
    assert '<th scope="row">app</th><td>erin</td>' in shown.text
    assert f'<th scope="row">merged{"m" * 18}</th>' in shown.text
    assert client.get(realm_page("users/nobody")).status_code == 404


def test_revoke_tokens_makes_an_earlier_token_inactive(client, runner, issue, introspect, admin_csrf):
    token = issue("erin")
    assert introspect(token) is True
    erin = cli(runner, "users", "list", "--realm", "default")[0]["_id"]
    revoked = post(client, realm_page(f"users/{erin}/revoke-tokens"), admin_csrf)
    assert revoked.status_code == 200 and "revoked" in revoked.text
    assert introspect(token) is False


@pytest.mark.parametrize(("tab", "query"), [
    ("users", {"by": "nope"}), ("users", {"cursor": "garbage"}), ("users", {"cursor": "!!!"}),
    ("users", "by=user_id&by=email"), ("users", {"q": "a\x01b"}), ("users", {"by": "_id", "q": "x" * 40}),
    ("audit", {"cursor": "garbage"}), ("usage", {"month": "2024-13"}), ("usage.csv", {"month": "garbage"}),
])
def test_a_bad_query_is_a_400_page(app, client, admin_csrf, tab, query):
    seed_users(app, 2)
    refused = client.get(realm_page(tab), query_string=query)
    assert refused.status_code == 400 and 'role="alert"' in refused.text
    assert_secured(refused)


# --- 9. usage ------------------------------------------------------------------------------


def test_usage_csv_is_the_same_as_the_cli(client, runner, issue, admin_csrf):
    issue("erin")
    issue("frank")
    month = cli(runner, "usage", "--realm", "default")["month"]
    download = client.get(realm_page("usage.csv"))
    assert download.status_code == 200 and download.mimetype == "text/csv"
    assert download.headers["Content-Disposition"] == f'attachment; filename="usage-default-{month}.csv"'
    assert download.headers["Cache-Control"] == "no-store"
    printed = runner.invoke(main, ["usage", "--realm", "default", "--format", "csv"])
    assert printed.exit_code == 0, printed.output
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows == list(csv.reader(io.StringIO(printed.stdout)))
    assert rows[1:] == [[month, "app-backend", "app", "false", "2"]], rows


# --- 10. explain ---------------------------------------------------------------------------


def test_explain_through_the_console_changes_nothing_and_does_not_echo_the_token(app, client, app_backend,
                                                                                 clock, admin_csrf):
    assertion = app_backend.assertion("erin", now=clock())
    before = row_counts(app)
    answer = post(client, realm_page("explain"), admin_csrf, client_id="app-backend", subject_token=assertion,
                  subject_token_type=TOKEN_TYPE_JWT, audience=AUDIENCE)
    assert answer.status_code == 200 and "Would issue a token" in answer.text
    assert assertion not in answer.text
    assert row_counts(app) == before
    for table in ("users", "identity_links", "monthly_usage"):
        assert before[table] == 0, table
    exchanged = client.post(TOKEN_URL, data=app_backend.exchange_form(assertion, audience=AUDIENCE))
    assert exchanged.status_code == 200  # the assertion's jti was not spent


# --- 11. sign-out ----------------------------------------------------------------------------


def test_sign_out_needs_csrf_and_ends_the_session(client, runner, admin_csrf):
    cookie = session_cookie(client)
    refused = post(client, f"{CONSOLE}/sign-out", None)
    assert refused.status_code == 403 and client.get(CONSOLE).status_code == 200
    assert_signed_out(post(client, f"{CONSOLE}/sign-out", admin_csrf))
    assert session_cookie(client) is None
    use_cookie(client, cookie)
    assert_signed_out(client.get(CONSOLE))


def test_a_session_expires(app, client, clock, admin_csrf):
    clock.advance(app.config["CONSOLE_SESSION_SECONDS"])
    assert_signed_out(client.get(CONSOLE))


# --- 12. the ADMIN_REALM callback --------------------------------------------------------------


@pytest.fixture
def loopback(make_app):
    """An app reached at http://localhost (the console's callback must be https or loopback)."""
    app = make_app(ISSUER_BASE_URL="http://localhost")
    with app.app_context():
        create_realm("default")
    return app


def start_login(client) -> str:
    """GET /console/login: the ``state`` it sends to ADMIN_REALM's /authorize."""
    started = client.get(f"{CONSOLE}/login")
    assert started.status_code == 303, started.text
    location = urlsplit(started.headers["Location"])
    assert location.path == "/realms/default/authorize"
    assert started.headers["Set-Cookie"].startswith("authserver_console_login=")
    return parse_qs(location.query)["state"][0]


def test_the_callback_refuses_a_foreign_state(loopback):
    client = loopback.test_client()
    start_login(client)
    refused = client.get(f"{CONSOLE}/callback", query_string={"state": "someone-else", "code": "x"})
    assert refused.status_code == 403 and "another browser" in refused.text
    assert session_cookie(client) is None


def test_the_callback_without_a_login_cookie_is_refused(loopback):
    state, client = start_login(loopback.test_client()), loopback.test_client()
    refused = client.get(f"{CONSOLE}/callback", query_string={"state": state, "code": "x"})
    assert refused.status_code == 403 and "another browser" in refused.text


def test_the_callback_shows_the_upstream_error(loopback):
    client = loopback.test_client()
    state = start_login(client)
    refused = client.get(f"{CONSOLE}/callback", query_string={
        "state": state, "error": "access_denied", "error_description": "The user said <no>"})
    assert refused.status_code == 403 and "The sign-in was refused: The user said &lt;no&gt;" in refused.text
    assert session_cookie(client) is None


def test_the_callback_refuses_an_unknown_code(loopback):
    client = loopback.test_client()
    state = start_login(client)
    refused = client.get(f"{CONSOLE}/callback", query_string={"state": state, "code": "no-such-code"})
    assert refused.status_code == 403 and "could not be completed" in refused.text


# --- 13. headers of every page ---------------------------------------------------------------


def assert_secured(response) -> None:
    assert response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"  # a link's token is in its URL
    assert "<script" not in response.text.lower()


def test_every_console_page_is_served_with_the_security_headers(app, client, runner, issue):
    issue("erin")
    link = link_path(new_link(runner))
    signed_out = [client.get(SIGN_IN), client.get(link), client.post(f"{CONSOLE}/link/unknown")]
    csrf = sign_in(client, runner)
    uid = cli(runner, "users", "list", "--realm", "default")[0]["_id"]
    signed_in = [client.get(path) for path in (CONSOLE, f"{CONSOLE}/realms", realm_page(f"users/{uid}"),
                                                 realm_page("users/nobody"),
                                                 *(realm_page(tab) for tab in REALM_TABS))]
    refused = [post(client, realm_page("clients"), None, name="x"), post(client, realm_page("clients"), csrf)]
    for response in signed_out + signed_in + refused:
        assert_secured(response)


@pytest.mark.parametrize(("method", "path"), [("get", f"{CONSOLE}/nowhere"), ("get", f"{CONSOLE}/sign-out")])
def test_an_unknown_console_url_is_a_console_page(client, admin_csrf, method, path):
    response = getattr(client, method)(path)
    assert response.status_code in (404, 405)
    assert_secured(response)
