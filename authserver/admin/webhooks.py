"""Admin API: webhook subscriptions, deliveries and replays (Standard Webhooks 1.0), the same
operations as ``authserver webhooks``."""

from __future__ import annotations

from flask import Blueprint, jsonify

from authserver.admin import actor, admin_required, json_body, query_str
from authserver.admin.paging import PAGE_QUERY, filters, listed, page_args
from authserver.events import subscriptions as service
from authserver.registry import validation
from authserver.registry.realms import get_realm

blueprint = Blueprint("webhooks", __name__, url_prefix="/realms/<realm>")
NO_STORE = {"Cache-Control": "no-store"}
DELIVERY_QUERY = ("state", *PAGE_QUERY)


@blueprint.get("/webhooks")
@admin_required(query=(*PAGE_QUERY, "enabled"))
def list_subscriptions(realm: str):
    return listed(service.list_subscriptions(get_realm(realm), **page_args(), **filters("enabled")))


@blueprint.post("/webhooks")
@admin_required
def create_subscription(realm: str):
    issued = service.create_subscription(get_realm(realm), json_body(), actor())
    return jsonify(issued.to_dict()), 201, NO_STORE


@blueprint.get("/webhooks/<subscription_id>")
@admin_required
def show_subscription(realm: str, subscription_id: str):
    return jsonify(service.get_subscription(get_realm(realm), subscription_id).to_dict())


@blueprint.patch("/webhooks/<subscription_id>")
@admin_required
def update_subscription(realm: str, subscription_id: str):
    subscription = service.update_subscription(get_realm(realm), subscription_id, json_body(), actor())
    return jsonify(subscription.to_dict())


@blueprint.delete("/webhooks/<subscription_id>")
@admin_required
def delete_subscription(realm: str, subscription_id: str):
    service.delete_subscription(get_realm(realm), subscription_id, actor())
    return "", 204


@blueprint.post("/webhooks/<subscription_id>/rotate-secret")
@admin_required
def rotate_secret(realm: str, subscription_id: str):
    data = validation.only_fields(json_body(optional=True), {"overlap_seconds"}, "rotate-secret")
    issued = service.rotate_secret(get_realm(realm), subscription_id, actor(), data.get("overlap_seconds"))
    return jsonify(issued.to_dict()), 200, NO_STORE


@blueprint.post("/webhooks/<subscription_id>/test")
@admin_required
def send_test(realm: str, subscription_id: str):
    delivery = service.send_test(get_realm(realm), subscription_id, actor())
    return jsonify(delivery.to_dict(with_attempts=False)), 202


@blueprint.get("/webhooks/<subscription_id>/deliveries")
@admin_required(query=DELIVERY_QUERY)
def subscription_deliveries(realm: str, subscription_id: str):
    return _deliveries(realm, subscription_id)


@blueprint.get("/webhook-deliveries")
@admin_required(query=DELIVERY_QUERY)
def realm_deliveries(realm: str):
    return _deliveries(realm, None)


def _deliveries(realm: str, subscription_id: str | None):
    return listed(service.list_deliveries(get_realm(realm), subscription_id, query_str("state"), **page_args()))


@blueprint.get("/webhook-deliveries/<delivery_id>")
@admin_required
def show_delivery(realm: str, delivery_id: str):
    return jsonify(service.get_delivery(get_realm(realm), delivery_id).to_dict())


@blueprint.post("/webhook-deliveries/<delivery_id>/replay")
@admin_required
def replay_delivery(realm: str, delivery_id: str):
    return _replay(realm, delivery_id, None)


@blueprint.post("/events/<event_id>/replay")
@admin_required
def replay_event(realm: str, event_id: str):
    data = validation.only_fields(json_body(optional=True), {"subscription"}, "replay")
    return _replay(realm, event_id, data.get("subscription"))


def _replay(realm: str, object_id: str, subscription_id: str | None):
    rows = service.replay(get_realm(realm), object_id, actor(), subscription_id)
    return jsonify([d.to_dict(with_attempts=False) for d in rows]), 202
