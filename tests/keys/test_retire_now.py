"""A compromised key retired now, a pending rotation cancelled (KeyService.retire_now,
KeyService.cancel_rotation), through the service, the CLI and the admin API."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from authserver.cli import main
from authserver.errors import Conflict, NotFound
from authserver.extensions import db
from authserver.models import AuditEvent, Event
from authserver.registry.realms import get_realm
from authserver.state import app_state
from tests.cli_helpers import admin_token, basic, bearer, cli, cli_error


def keys(app) -> dict[str, str]:
    with app.app_context():
        return {k.kid: k.state for k in app_state().keys.list_keys(get_realm("default"))}


def jwks_kids(client) -> set[str]:
    return {k["kid"] for k in client.get("/realms/default/jwks").get_json()["keys"]}


def service_token(client, admin: dict) -> str:
    response = client.post("/realms/default/token", headers=basic(admin["client_id"], admin["client_secret"]),
                           data={"grant_type": "client_credentials", "scope": "admin"})
    return response.get_json()["access_token"]


def test_retiring_the_active_key_promotes_the_next_one_and_voids_its_tokens(app, runner, client):
    admin = cli(runner, "admin", "bootstrap")
    token = service_token(client, admin)
    assert client.get("/admin/realms/default/keys", headers=bearer(token)).status_code == 200
    (old,) = keys(app)
    pending = cli(runner, "keys", "rotate", "--realm", "default")["kid"]
    done = cli(runner, "keys", "retire-now", "--realm", "default", old)
    assert done["retired"]["kid"] == old and done["retired"]["state"] == "retired"
    assert done["activated"]["kid"] == pending and done["activated"]["state"] == "active"
    assert keys(app) == {pending: "active"}
    assert jwks_kids(client) == {pending}
    with app.app_context():
        assert app_state().keys.signing_key("default").kid == pending
    # tokens the retired key signed stop verifying at once (here: the admin token itself)
    assert client.get("/admin/realms/default/keys", headers=bearer(token)).status_code == 401
    assert client.get("/admin/realms/default/keys", headers=bearer(service_token(client, admin))).status_code == 200


def test_retiring_the_only_key_makes_a_new_active_key_of_its_algorithm(app, runner, client):
    cli(runner, "realms", "create", "rsa", "--alg", "RS256")
    with app.app_context():
        (old,) = [k.kid for k in app_state().keys.list_keys(get_realm("rsa"))]
    done = cli(runner, "keys", "retire-now", "--realm", "rsa", old)
    new = done["activated"]
    assert new["kid"] != old and (new["alg"], new["state"]) == ("RS256", "active")
    assert {k["kid"] for k in client.get("/realms/rsa/jwks").get_json()["keys"]} == {new["kid"]}
    with app.app_context():
        types = [e.type for e in db.session.scalars(select(Event).order_by(Event.id))]
        assert types[-2:] == ["key.retired", "key.activated"]
        entry = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (entry.action, entry.actor, entry.target_id) == ("key.retire_now", "cli", old)
        assert entry.after["activated"] == new["kid"]


def test_retiring_a_next_or_retired_key_removes_only_it(app, runner, clock):
    (active,) = keys(app)
    pending = cli(runner, "keys", "rotate", "--realm", "default")["kid"]
    assert cli(runner, "keys", "retire-now", "--realm", "default", pending)["activated"] is None
    assert keys(app) == {active: "active"}
    new = cli(runner, "keys", "rotate", "--realm", "default")["kid"]
    clock.advance(app.config["KEY_PREPUBLICATION_SECONDS"])
    cli(runner, "keys", "list", "--realm", "default")  # promotes: the old key is retired, still published
    assert keys(app) == {active: "retired", new: "active"}
    assert cli(runner, "keys", "retire-now", "--realm", "default", active)["activated"] is None
    assert keys(app) == {new: "active"}


def test_cancel_rotation_drops_the_next_key(app, runner, client):
    (active,) = keys(app)
    pending = cli(runner, "keys", "rotate", "--realm", "default")["kid"]
    assert jwks_kids(client) == {active, pending}
    dropped = cli(runner, "keys", "cancel-rotation", "--realm", "default")
    assert (dropped["kid"], dropped["state"]) == (pending, "retired")
    assert keys(app) == {active: "active"} and jwks_kids(client) == {active}
    assert cli_error(runner, "keys", "cancel-rotation", "--realm", "default") == (
        "Error: no rotation of realm 'default' is pending (it has no next key)")
    assert cli(runner, "keys", "rotate", "--realm", "default")["state"] == "next"  # a new rotation may start


def test_cancel_after_the_next_key_started_signing_is_refused(app, runner, clock):
    cli(runner, "keys", "rotate", "--realm", "default")
    clock.advance(app.config["KEY_PREPUBLICATION_SECONDS"])
    with app.app_context(), pytest.raises(Conflict):
        app_state().keys.cancel_rotation(get_realm("default"), "test")


def test_unknown_kid_and_the_admin_api(app, runner, client):
    headers = bearer(admin_token(runner, client))
    with app.app_context(), pytest.raises(NotFound):
        app_state().keys.retire_now(get_realm("default"), "nope", "test")
    assert client.post("/admin/realms/default/keys/nope/retire-now", headers=headers).get_json() == {
        "error": "not_found", "error_description": "no key 'nope' in realm 'default'"}
    assert client.post("/admin/realms/default/keys/cancel-rotation", headers=headers).status_code == 409
    pending = client.post("/admin/realms/default/keys/rotate", headers=headers).get_json()["kid"]
    answer = client.post("/admin/realms/default/keys/cancel-rotation", headers=headers)
    assert answer.status_code == 200 and answer.get_json()["kid"] == pending
    audit = client.get("/admin/realms/default/audit?limit=1", headers=headers).get_json()
    assert (audit[0]["action"], audit[0]["actor"]) == ("key.cancel_rotation", "client:admin-cli")


def test_a_kid_starting_with_a_dash_is_the_argument_not_an_option(app, runner):
    """One thumbprint in 64 starts with "-": pasted as it is, it still names the key."""
    dashed = "-" + "4" * 42
    assert cli_error(runner, "keys", "retire-now", "--realm", "default", dashed) == (
        f"Error: no key '{dashed}' in realm 'default'")
    before_the_option = cli_error(runner, "keys", "retire-now", dashed, "--realm", "default")
    assert before_the_option.endswith(f"'{dashed}' in realm 'default'")
    assert "No such option" in cli_error(runner, "keys", "retire-now", "--realm", "default", "-x")


def test_a_kid_after_the_double_dash_still_works(app, runner):
    (old,) = keys(app)
    result = runner.invoke(main, ["keys", "retire-now", "--realm", "default", "--json", "--", old])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["retired"]["kid"] == old
