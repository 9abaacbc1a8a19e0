"""``authserver webhooks``: a realm's webhook subscriptions, their deliveries, replays.

Thin wrappers over :mod:`authserver.events.subscriptions`, the functions the admin API
calls too. Ids are unique across realms, so commands naming one need no ``--realm``.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from authserver.cli.dispatch import admin_call, admin_list, realm_path, remote_admin
from authserver.cli.options import ACTOR, flag_filter, given, page_options
from authserver.cli.output import emit, emit_page, json_option
from authserver.errors import InvalidInput
from authserver.events import subscriptions as service
from authserver.models import WebhookDelivery, WebhookSubscription
from authserver.models.event import DELIVERY_STATES
from authserver.registry.realms import get_realm

webhooks = AppGroup("webhooks", help="Manage webhook subscriptions (Standard Webhooks) and deliveries.")
COLUMNS = ("id", "realm", "url", "events", "enabled", "description")
SHOWN = ("id", "realm", "url", "events", "enabled", "description", "previous_secret_expires_at",
         "created_at", "updated_at", "secret")
DELIVERY_COLUMNS = ("id", "subscription", "event", "type", "state", "attempts", "next_attempt_at",
                    "last_status", "last_error")
id_argument = click.argument("subscription_id", metavar="ID")
optional_realm = click.option("--realm", default=None, help="Realm name (default: any realm).")


def _realm(name: str | None):
    return get_realm(name) if name else None


def _path(realm: str | None, *segments: str) -> str:
    """The admin API path; it names the realm, so under --server ``--realm`` is needed."""
    if realm is None:
        if remote_admin() is not None:
            raise InvalidInput("--realm: needed with --server (the admin API names the realm)")
        return ""
    return realm_path(realm, *segments)


def field_options(command):
    options = [
        click.option("--url", help="The receiver: an http(s) URL."),
        click.option("--events", help='Event types to send, space-separated ("user.merged user.*"); '
                                      'empty: every type.'),
        click.option("--description", help="A note for admins."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _emit_subscription(data: dict, as_json: bool) -> None:
    emit(data, as_json, [c for c in SHOWN if c in data])


@webhooks.command("create")
@click.option("--realm", required=True, help="Realm name.")
@field_options
@click.option("--disabled", is_flag=True, help="Create it paused.")
@json_option
def create(realm: str, disabled: bool, as_json: bool, **fields) -> None:
    """Subscribe URL to the realm's events; prints the signing secret once."""
    data = given(**fields)
    if disabled:
        data["enabled"] = False
    _emit_subscription(admin_call("POST", _path(realm, "webhooks"), lambda: service.create_subscription(
        get_realm(realm), data, ACTOR).to_dict(), body=data), as_json)


@webhooks.command("list")
@optional_realm
@page_options()
@flag_filter("enabled", "enabled", "disabled", "Only enabled (or paused) subscriptions.")
@json_option
def list_(realm: str | None, limit: int, cursor: str | None, enabled: bool | None, as_json: bool) -> None:
    """List subscriptions (never their secrets), oldest first."""
    page = admin_list(_path(realm, "webhooks"), lambda: service.list_subscriptions(
        _realm(realm), limit, cursor, enabled=enabled).map(WebhookSubscription.to_dict),
        {"limit": limit, "cursor": cursor, "enabled": enabled})
    emit_page(page, as_json, COLUMNS)


@webhooks.command("show")
@id_argument
@optional_realm
@json_option
def show(subscription_id: str, realm: str | None, as_json: bool) -> None:
    """Show one subscription."""
    _emit_subscription(admin_call("GET", _path(realm, "webhooks", subscription_id), lambda: service.get_subscription(
        _realm(realm), subscription_id).to_dict()), as_json)


@webhooks.command("update")
@id_argument
@optional_realm
@field_options
@click.option("--enable/--disable", "enabled", default=None, help="Resume or pause deliveries.")
@json_option
def update(subscription_id: str, realm: str | None, as_json: bool, **fields) -> None:
    """Change the fields given."""
    data = given(**fields)
    _emit_subscription(admin_call("PATCH", _path(realm, "webhooks", subscription_id),
                                  lambda: service.update_subscription(_realm(realm), subscription_id, data,
                                                                      ACTOR).to_dict(), body=data), as_json)


@webhooks.command("delete")
@id_argument
@optional_realm
@json_option
def delete(subscription_id: str, realm: str | None, as_json: bool) -> None:
    """Delete a subscription and its deliveries."""
    admin_call("DELETE", _path(realm, "webhooks", subscription_id),
               lambda: service.delete_subscription(_realm(realm), subscription_id, ACTOR))
    emit({"deleted": subscription_id}, as_json)


@webhooks.command("rotate-secret")
@id_argument
@optional_realm
@click.option("--overlap", "overlap_seconds", type=int, default=None,
              help="Seconds the old secret keeps signing too (default WEBHOOK_SECRET_OVERLAP_SECONDS).")
@json_option
def rotate_secret(subscription_id: str, realm: str | None, overlap_seconds: int | None, as_json: bool) -> None:
    """Replace the signing secret; prints the new one once."""
    issued = admin_call("POST", _path(realm, "webhooks", subscription_id, "rotate-secret"),
                        lambda: service.rotate_secret(_realm(realm), subscription_id, ACTOR, overlap_seconds).to_dict(),
                        body=given(overlap_seconds=overlap_seconds))
    _emit_subscription(issued, as_json)


@webhooks.command("test")
@id_argument
@optional_realm
@json_option
def test(subscription_id: str, realm: str | None, as_json: bool) -> None:
    """Queue a webhook.test event for this subscription; see `webhooks deliveries ID`."""
    emit(admin_call("POST", _path(realm, "webhooks", subscription_id, "test"), lambda: service.send_test(
        _realm(realm), subscription_id, ACTOR).to_dict(with_attempts=False)), as_json, DELIVERY_COLUMNS)


@webhooks.command("deliveries")
@click.argument("subscription_id", metavar="[ID]", required=False)
@optional_realm
@click.option("--state", type=click.Choice(DELIVERY_STATES), default=None)
@page_options()
@json_option
def deliveries(subscription_id: str | None, realm: str | None, state: str | None, limit: int, cursor: str | None,
               as_json: bool) -> None:
    """Recent deliveries (of subscription ID), newest first, with their attempts."""
    path = _path(realm, "webhooks", subscription_id, "deliveries") if subscription_id else \
        _path(realm, "webhook-deliveries")
    page = admin_list(path, lambda: service.list_deliveries(
        _realm(realm), subscription_id, state, limit, cursor).map(WebhookDelivery.to_dict),
        {"limit": limit, "cursor": cursor, "state": state})
    if not as_json:
        page = page.map(lambda d: {k: v for k, v in d.items() if k != "attempt_log"})
    emit_page(page, as_json, DELIVERY_COLUMNS)


@webhooks.command("replay")
@click.argument("object_id", metavar="DELIVERY_OR_EVENT_ID")
@optional_realm
@click.option("--subscription", "subscription_id", default=None,
              help="With an event id: replay to this subscription only.")
@json_option
def replay(object_id: str, realm: str | None, subscription_id: str | None, as_json: bool) -> None:
    """Deliver a delivered or dead event again, with its original webhook-id."""
    if object_id.startswith("dlv_"):
        path, body = _path(realm, "webhook-deliveries", object_id, "replay"), None
    else:
        path, body = _path(realm, "events", object_id, "replay"), given(subscription=subscription_id)
    emit(admin_call("POST", path, lambda: [d.to_dict(with_attempts=False) for d in service.replay(
        _realm(realm), object_id, ACTOR, subscription_id)], body=body), as_json, DELIVERY_COLUMNS)
