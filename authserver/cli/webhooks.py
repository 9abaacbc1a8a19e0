"""``authserver webhooks``: a realm's webhook subscriptions, their deliveries, replays.

Thin wrappers over :mod:`authserver.events.subscriptions`, the functions the admin API
calls too. Ids are unique across realms, so commands naming one need no ``--realm``.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from authserver.cli.options import ACTOR, given
from authserver.cli.output import emit, json_option
from authserver.events import subscriptions as service
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
    _emit_subscription(service.create_subscription(get_realm(realm), data, ACTOR).to_dict(), as_json)


@webhooks.command("list")
@optional_realm
@json_option
def list_(realm: str | None, as_json: bool) -> None:
    """List subscriptions (never their secrets)."""
    emit([s.to_dict() for s in service.list_subscriptions(_realm(realm))], as_json, COLUMNS)


@webhooks.command("show")
@id_argument
@optional_realm
@json_option
def show(subscription_id: str, realm: str | None, as_json: bool) -> None:
    """Show one subscription."""
    _emit_subscription(service.get_subscription(_realm(realm), subscription_id).to_dict(), as_json)


@webhooks.command("update")
@id_argument
@optional_realm
@field_options
@click.option("--enable/--disable", "enabled", default=None, help="Resume or pause deliveries.")
@json_option
def update(subscription_id: str, realm: str | None, as_json: bool, **fields) -> None:
    """Change the fields given."""
    subscription = service.update_subscription(_realm(realm), subscription_id, given(**fields), ACTOR)
    _emit_subscription(subscription.to_dict(), as_json)


@webhooks.command("delete")
@id_argument
@optional_realm
@json_option
def delete(subscription_id: str, realm: str | None, as_json: bool) -> None:
    """Delete a subscription and its deliveries."""
    service.delete_subscription(_realm(realm), subscription_id, ACTOR)
    emit({"deleted": subscription_id}, as_json)


@webhooks.command("rotate-secret")
@id_argument
@optional_realm
@click.option("--overlap", "overlap_seconds", type=int, default=None,
              help="Seconds the old secret keeps signing too (default WEBHOOK_SECRET_OVERLAP_SECONDS).")
@json_option
def rotate_secret(subscription_id: str, realm: str | None, overlap_seconds: int | None, as_json: bool) -> None:
    """Replace the signing secret; prints the new one once."""
    issued = service.rotate_secret(_realm(realm), subscription_id, ACTOR, overlap_seconds)
    _emit_subscription(issued.to_dict(), as_json)


@webhooks.command("test")
@id_argument
@optional_realm
@json_option
def test(subscription_id: str, realm: str | None, as_json: bool) -> None:
    """Queue a webhook.test event for this subscription; see `webhooks deliveries ID`."""
    delivery = service.send_test(_realm(realm), subscription_id, ACTOR)
    emit(delivery.to_dict(with_attempts=False), as_json, DELIVERY_COLUMNS)


@webhooks.command("deliveries")
@click.argument("subscription_id", metavar="[ID]", required=False)
@optional_realm
@click.option("--state", type=click.Choice(DELIVERY_STATES), default=None)
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@json_option
def deliveries(subscription_id: str | None, realm: str | None, state: str | None, limit: int,
               as_json: bool) -> None:
    """Recent deliveries (of subscription ID), newest first, with their attempts."""
    rows = service.list_deliveries(_realm(realm), subscription_id, state, limit)
    emit([d.to_dict(with_attempts=as_json) for d in rows], as_json, DELIVERY_COLUMNS)


@webhooks.command("replay")
@click.argument("object_id", metavar="DELIVERY_OR_EVENT_ID")
@optional_realm
@click.option("--subscription", "subscription_id", default=None,
              help="With an event id: replay to this subscription only.")
@json_option
def replay(object_id: str, realm: str | None, subscription_id: str | None, as_json: bool) -> None:
    """Deliver a delivered or dead event again, with its original webhook-id."""
    rows = service.replay(_realm(realm), object_id, ACTOR, subscription_id)
    emit([d.to_dict(with_attempts=False) for d in rows], as_json, DELIVERY_COLUMNS)
