"""``authserver webhooks`` / ``authserver worker`` and the admin API's webhook routes: the
same operations, the same results (they call the same functions)."""

from __future__ import annotations

from authserver.cli import main
from tests.cli_helpers import admin_token, bearer, cli, cli_error

VOLATILE = {"id", "secret", "subscription", "event", "created_at", "updated_at", "next_attempt_at",
            "finished_at", "previous_secret_expires_at", "replay_of", "attempt_log", "realm"}


def normalized(value):
    if isinstance(value, list):
        return [normalized(v) for v in value]
    if isinstance(value, dict):
        return {k: normalized(v) for k, v in value.items() if k not in VOLATILE}
    return value


def test_cli_life_of_a_subscription(runner, receiver):
    created = cli(runner, "webhooks", "create", "--realm", "default", "--url", receiver.url,
                  "--events", "client.* user.merged", "--description", "chat backend")
    receiver.secrets.append(created["secret"])
    assert created["secret"].startswith("whsec_") and created["events"] == ["client.*", "user.merged"]
    sub = created["id"]
    listed = cli(runner, "webhooks", "list", "--realm", "default")
    assert [s["id"] for s in listed] == [sub] and "secret" not in listed[0]
    assert cli(runner, "webhooks", "show", sub)["description"] == "chat backend"
    assert cli(runner, "webhooks", "update", sub, "--disable")["enabled"] is False
    assert cli(runner, "webhooks", "update", sub, "--enable", "--events", "")["events"] == []
    rotated = cli(runner, "webhooks", "rotate-secret", sub, "--overlap", "600")
    assert rotated["secret"] != created["secret"] and rotated["previous_secret_expires_at"]
    receiver.secrets.append(rotated["secret"])
    queued = cli(runner, "webhooks", "test", sub)
    assert queued["state"] == "pending" and queued["type"] == "webhook.test"
    result = runner.invoke(main, ["worker", "--once"])
    assert result.exit_code == 0, result.output
    [delivery] = cli(runner, "webhooks", "deliveries", sub)
    assert delivery["state"] == "delivered" and delivery["attempt_log"][0]["status_code"] == 200
    assert receiver.received[0].verified_by == [created["secret"], rotated["secret"]]
    [again] = cli(runner, "webhooks", "replay", delivery["id"])
    assert again["replay_of"] == delivery["id"] and again["event"] == delivery["event"]
    assert cli(runner, "webhooks", "deliveries", "--state", "pending")[0]["id"] == again["id"]
    assert cli(runner, "webhooks", "delete", sub) == {"deleted": sub}
    assert cli(runner, "webhooks", "list") == []


def test_cli_errors_are_one_line(runner, receiver):
    assert "url" in cli_error(runner, "webhooks", "create", "--realm", "default", "--url", "ftp://x/")
    assert "events" in cli_error(runner, "webhooks", "create", "--realm", "default", "--url", receiver.url,
                                 "--events", "user.invented")
    assert "no webhook subscription" in cli_error(runner, "webhooks", "show", "wh_nope")
    assert "no delivery or event" in cli_error(runner, "webhooks", "replay", "evt_nope")
    assert "realm" in cli_error(runner, "webhooks", "list", "--realm", "nope")
    assert cli_error(runner, "worker", "--concurrency", "0")


def test_admin_api_and_cli_agree(runner, client, receiver):
    headers = bearer(admin_token(runner, client))
    base = "/admin/realms/default"

    def api(method: str, path: str, body=None, status: int = 200):
        response = client.open(base + path, method=method, json=body, headers=headers)
        assert response.status_code == status, response.get_json()
        return response.get_json() if response.data else None

    via_api = api("POST", "/webhooks", {"url": receiver.url, "events": ["client.*"]}, 201)
    via_cli = cli(runner, "webhooks", "create", "--realm", "default", "--url", receiver.url, "--events", "client.*")
    assert normalized(via_api) == normalized(via_cli)
    receiver.secrets += [via_api["secret"], via_cli["secret"]]
    sub = via_api["id"]
    assert "secret" not in api("GET", f"/webhooks/{sub}")
    assert normalized(api("GET", "/webhooks")) == normalized(cli(runner, "webhooks", "list", "--realm", "default"))
    assert api("PATCH", f"/webhooks/{sub}", {"description": "x"})["description"] == "x"
    assert api("POST", f"/webhooks/{sub}/rotate-secret", {"overlap_seconds": 0})["previous_secret_expires_at"] is None
    receiver.secrets.append(api("POST", f"/webhooks/{sub}/rotate-secret")["secret"])
    assert api("POST", f"/webhooks/{sub}/test", status=202)["type"] == "webhook.test"
    assert runner.invoke(main, ["worker", "--once"]).exit_code == 0
    [delivery] = api("GET", f"/webhooks/{sub}/deliveries")
    assert delivery["state"] == "delivered" and delivery["attempt_log"][0]["result"] == "delivered"
    assert api("GET", f"/webhook-deliveries/{delivery['id']}")["event"] == delivery["event"]
    assert api("GET", "/webhook-deliveries?state=delivered")[0]["id"] == delivery["id"]
    [again] = api("POST", f"/webhook-deliveries/{delivery['id']}/replay", status=202)
    assert again["replay_of"] == delivery["id"]
    assert api("POST", f"/webhook-deliveries/{again['id']}/replay", status=409)["error"] == "conflict"
    [to_one] = api("POST", f"/events/{delivery['event']}/replay", {"subscription": via_cli["id"]}, 202)
    assert to_one["subscription"] == via_cli["id"] and to_one["event"] == delivery["event"]
    assert api("POST", "/webhooks", {"url": "http://example.com/", "secret": "mine"}, 400)["error"] == \
        "invalid_request"
    assert api("GET", "/webhooks/wh_nope", status=404)["error"] == "not_found"
    assert api("GET", "/webhook-deliveries?state=odd", status=400)["error"] == "invalid_request"
    api("DELETE", f"/webhooks/{sub}", status=204)
    assert [s["id"] for s in api("GET", "/webhooks")] == [via_cli["id"]]


def test_subscriptions_stay_in_their_realm(runner, client, receiver):
    cli(runner, "realms", "create", "other")
    other = cli(runner, "webhooks", "create", "--realm", "other", "--url", receiver.url)
    headers = bearer(admin_token(runner, client, realm="other"))
    assert client.get(f"/admin/realms/other/webhooks/{other['id']}", headers=headers).status_code == 200
    assert client.get(f"/admin/realms/default/webhooks/{other['id']}", headers=headers).status_code in (401, 404)
    assert "no webhook subscription" in cli_error(runner, "webhooks", "show", other["id"], "--realm", "default")
