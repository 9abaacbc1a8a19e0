"""Webhook subscriptions of a realm and their deliveries. Shared by ``authserver webhooks``
and the admin API, neither of which holds logic of its own.

A subscription is a URL, an event-type filter (empty: every type), an enabled flag and a
secret (``whsec_…``, shown once, sealed at rest). ``rotate-secret`` keeps the old secret
signing beside the new one for an overlap period. Functions taking ``realm=None`` find the
object by its id in any realm (the CLI); the admin API always names the realm.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from authserver.errors import Conflict, InvalidInput, NotFound
from authserver.events import outbox, signing
from authserver.events.runtime import webhook_runtime
from authserver.extensions import db
from authserver.models import Event, Realm, WebhookDelivery, WebhookSubscription
from authserver.models.event import DELIVERY_STATES, PENDING
from authserver.registry import audit, paging, validation
from authserver.registry.paging import Order, Page
from authserver.state import app_state

FIELDS = {"url", "events", "description", "enabled"}
SUBSCRIPTIONS = Order("webhooks", (WebhookSubscription.id,))
DELIVERIES = Order("deliveries", (WebhookDelivery.id,), descending=True)


@dataclass(frozen=True)
class IssuedSubscription:
    """A subscription just created or whose secret was just replaced: the secret is shown once."""

    subscription: WebhookSubscription
    secret: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.subscription.to_dict(), "secret": self.secret}


def _now() -> int:
    return int(app_state().clock())


def _context(subscription: WebhookSubscription) -> str:
    return f"webhook-secret:{subscription.public_id}"


def _seal(subscription: WebhookSubscription, secret: str) -> bytes:
    return app_state().box.seal(secret.encode(), _context(subscription))


def signing_secrets(subscription: WebhookSubscription, now: int) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its overlap."""
    box = app_state().box
    secrets = [box.open(subscription.secret_sealed, _context(subscription)).decode()]
    if subscription.previous_secret_sealed and (subscription.previous_secret_expires_at or 0) > now:
        secrets.append(box.open(subscription.previous_secret_sealed, _context(subscription)).decode())
    return secrets


def create_subscription(realm: Realm, data: dict[str, Any], actor: str) -> IssuedSubscription:
    validation.only_fields(data, FIELDS, "webhook subscription")
    if "url" not in data:
        raise InvalidInput("url: required")
    now = _now()
    subscription = WebhookSubscription(public_id=outbox.new_id("wh"), realm=realm, realm_id=realm.id,
                                       event_types=[], enabled=True, created_at=now, updated_at=now)
    _apply(subscription, data)
    secret = signing.new_secret()
    subscription.secret_sealed = _seal(subscription, secret)
    db.session.add(subscription)
    audit.record(realm, actor, "webhook.create", "webhook", subscription.public_id, after=subscription.to_dict())
    db.session.commit()
    return IssuedSubscription(subscription, secret)


def list_subscriptions(realm: Realm | None, limit: int | None = None, cursor: str | None = None, *,
                       enabled: bool | str | None = None) -> Page:
    """A page of subscriptions (of ``realm``, or of every realm), oldest first."""
    query = select(WebhookSubscription)
    if realm is not None:
        query = query.where(WebhookSubscription.realm_id == realm.id)
    if (enabled := paging.flag_filter(enabled, "enabled")) is not None:
        query = query.where(WebhookSubscription.enabled.is_(enabled))
    return paging.page(query, SUBSCRIPTIONS, limit, cursor)


def get_subscription(realm: Realm | None, public_id: str) -> WebhookSubscription:
    subscription = db.session.scalar(select(WebhookSubscription).where(
        WebhookSubscription.public_id == str(public_id)))
    if subscription is None or (realm is not None and subscription.realm_id != realm.id):
        raise NotFound(f"no webhook subscription {public_id!r}" + (f" in realm {realm.name!r}" if realm else ""))
    return subscription


def update_subscription(realm: Realm | None, public_id: str, data: dict[str, Any], actor: str) -> WebhookSubscription:
    validation.only_fields(data, FIELDS, "webhook subscription update")
    subscription = get_subscription(realm, public_id)
    before = subscription.to_dict()
    _apply(subscription, data)
    subscription.updated_at = _now()
    audit.record(subscription.realm, actor, "webhook.update", "webhook", subscription.public_id,
                 before=before, after=subscription.to_dict())
    db.session.commit()
    return subscription


def delete_subscription(realm: Realm | None, public_id: str, actor: str) -> None:
    """Delete the subscription and its deliveries (the events stay, for other subscriptions)."""
    subscription = get_subscription(realm, public_id)
    audit.record(subscription.realm, actor, "webhook.delete", "webhook", subscription.public_id,
                 before=subscription.to_dict())
    db.session.delete(subscription)
    db.session.commit()


def rotate_secret(realm: Realm | None, public_id: str, actor: str,
                  overlap_seconds: int | None = None) -> IssuedSubscription:
    """A new secret, shown once; the old one keeps signing beside it for ``overlap_seconds``
    (default ``WEBHOOK_SECRET_OVERLAP_SECONDS``; 0 drops it now)."""
    subscription = get_subscription(realm, public_id)
    if overlap_seconds is None:
        overlap_seconds = webhook_runtime().settings.secret_overlap
    overlap_seconds = validation.integer(overlap_seconds, "overlap_seconds", 0, 30 * 86400)
    now = _now()
    subscription.previous_secret_sealed = subscription.secret_sealed if overlap_seconds else None
    subscription.previous_secret_expires_at = now + overlap_seconds if overlap_seconds else None
    secret = signing.new_secret()
    subscription.secret_sealed = _seal(subscription, secret)
    subscription.updated_at = now
    audit.record(subscription.realm, actor, "webhook.rotate_secret", "webhook", subscription.public_id,
                 after={"overlap_seconds": overlap_seconds})
    db.session.commit()
    return IssuedSubscription(subscription, secret)


def send_test(realm: Realm | None, public_id: str, actor: str) -> WebhookDelivery:
    """Queue a ``webhook.test`` event for this subscription only; the worker delivers it."""
    subscription = get_subscription(realm, public_id)
    delivery = outbox.publish_test(subscription.realm, subscription, actor)
    audit.record(subscription.realm, actor, "webhook.test", "webhook", subscription.public_id,
                 after={"delivery": delivery.public_id, "event": delivery.event.public_id})
    db.session.commit()
    return delivery


def list_deliveries(realm: Realm | None, subscription_id: str | None = None, state: str | None = None,
                    limit: int = 100, cursor: str | None = None) -> Page:
    """A page of deliveries, the most recent first, with their attempts."""
    query = select(WebhookDelivery)
    if subscription_id is not None:
        query = query.where(WebhookDelivery.subscription_id == get_subscription(realm, subscription_id).id)
    elif realm is not None:
        query = query.where(WebhookDelivery.realm_id == realm.id)
    if state is not None:
        if state not in DELIVERY_STATES:
            raise InvalidInput(f"state: must be one of {', '.join(DELIVERY_STATES)}")
        query = query.where(WebhookDelivery.state == state)
    return paging.page(query, DELIVERIES, limit, cursor)


def get_delivery(realm: Realm | None, public_id: str) -> WebhookDelivery:
    delivery = db.session.scalar(select(WebhookDelivery).where(WebhookDelivery.public_id == str(public_id)))
    if delivery is None or (realm is not None and delivery.realm_id != realm.id):
        raise NotFound(f"no webhook delivery {public_id!r}" + (f" in realm {realm.name!r}" if realm else ""))
    return delivery


def replay(realm: Realm | None, public_id: str, actor: str,
           subscription_id: str | None = None) -> list[WebhookDelivery]:
    """Deliver an event again, with its original ``webhook-id``: a delivery (``dlv_…``) to its
    subscription, or an event (``evt_…``) to every subscription that had it (or to
    ``subscription_id``). A delivery still pending is not replayed: it is still trying."""
    public_id = str(public_id)
    if public_id.startswith("dlv_"):
        original = get_delivery(realm, public_id)
        if original.state == PENDING:
            raise Conflict(f"delivery {public_id} is still pending: the worker is still trying it")
        targets, event, replay_of = [original.subscription], original.event, original.public_id
    else:
        event = _get_event(realm, public_id)
        targets, replay_of = _replay_targets(event, subscription_id, realm), None
    deliveries = [outbox.add_delivery(event, subscription, replay_of) for subscription in targets]
    audit.record(targets[0].realm, actor, "webhook.replay", "event", event.public_id,
                 after={"deliveries": [d.public_id for d in deliveries]})
    db.session.commit()
    return deliveries


def _get_event(realm: Realm | None, public_id: str) -> Event:
    event = db.session.scalar(select(Event).where(Event.public_id == public_id))
    if event is None or (realm is not None and event.realm_id != realm.id):
        raise NotFound(f"no delivery or event {public_id!r}" + (f" in realm {realm.name!r}" if realm else ""))
    return event


def _replay_targets(event: Event, subscription_id: str | None, realm: Realm | None) -> list[WebhookSubscription]:
    if subscription_id is not None:
        subscription = get_subscription(realm, subscription_id)
        if subscription.realm_id != event.realm_id:
            raise InvalidInput("subscription: must belong to the event's realm")
        return [subscription]
    had_it = select(WebhookDelivery.subscription_id).where(WebhookDelivery.event_id == event.id)
    targets = list(db.session.scalars(select(WebhookSubscription).where(WebhookSubscription.id.in_(had_it))
                                      .order_by(WebhookSubscription.id)))
    if not targets:
        raise Conflict(f"event {event.public_id} was delivered to no subscription; name one to replay it to")
    return targets


def _apply(subscription: WebhookSubscription, data: dict[str, Any]) -> None:
    if "url" in data:
        subscription.url = webhook_runtime().sender.check_url(data["url"])
    if "events" in data:
        subscription.event_types = outbox.validate_filters(data["events"])
    if "description" in data:
        subscription.description = validation.text(data["description"], "description", 200, required=False)
    if "enabled" in data:
        subscription.enabled = validation.boolean(data["enabled"], "enabled")
