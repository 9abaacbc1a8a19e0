"""Prometheus metrics: token requests by grant and result, request latency, upstream IdP
fetches and failures, signing keys by state, webhook deliveries by result, the webhook
queue's depth and the age of its oldest pending delivery.

With ``PROMETHEUS_MULTIPROC_DIR`` set (``authserver serve`` sets it), every worker process
writes its samples to files there and a scrape (of the management bind,
:mod:`authserver.observability.management`) aggregates them all; without it, a scrape shows
this process. Keys by state and the webhook queue are read from the
database at scrape time, so every process shows them.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import urlparse

from flask import current_app, g
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from authserver.extensions import db

log = logging.getLogger(__name__)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_GRANTS = {"urn:ietf:params:oauth:grant-type:token-exchange": "token_exchange",
           "client_credentials": "client_credentials", "refresh_token": "refresh_token",
           "authorization_code": "authorization_code"}


class Metrics:
    """The metric objects of one app, in a registry of their own (many apps per test run)."""

    def __init__(self):
        self.registry = CollectorRegistry(auto_describe=True)
        self.token_requests = Counter(
            "authserver_token_requests", "Token endpoint requests by grant and result "
            "(ok or the OAuth error code).", ["grant", "result"], registry=self.registry)
        self.request_latency = Histogram(
            "authserver_request_duration_seconds", "Request latency by endpoint.", ["endpoint"],
            buckets=LATENCY_BUCKETS, registry=self.registry)
        self.upstream_requests = Counter(
            "authserver_upstream_requests", "Requests to upstream IdPs by kind and result.",
            ["kind", "result"], registry=self.registry)
        self.upstream_latency = Histogram(
            "authserver_upstream_request_duration_seconds", "Upstream IdP request latency.",
            ["kind"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.webhook_deliveries = Counter(
            "authserver_webhook_deliveries", "Webhook delivery attempts by result (delivered, failed, "
            "refused, timeout), and deliveries dead-lettered (dead).", ["result"], registry=self.registry)
        self.webhook_latency = Histogram(
            "authserver_webhook_delivery_duration_seconds", "Webhook delivery attempt latency.",
            buckets=LATENCY_BUCKETS, registry=self.registry)
        self._children: dict[tuple, object] = {}

    def observe_request(self, endpoint: str, response, elapsed: float) -> None:
        self._child(self.request_latency, endpoint).observe(elapsed)
        if endpoint == "token.token":
            self._child(self.token_requests, _grant(), _result(response)).inc()

    def _child(self, metric, *labels: str):
        """``metric.labels(*labels)``, remembered: the label sets of requests are few."""
        key = (metric, labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    def observe_upstream(self, url: str, status: int | None, elapsed: float) -> None:
        """Called by :class:`authserver.outbound.http_client.RequestsHttpClient` after every call."""
        kind = upstream_kind(url)
        result = "failure" if status is None else "ok" if status < 400 else f"http_{status // 100}xx"
        self.upstream_requests.labels(kind, result).inc()
        self.upstream_latency.labels(kind).observe(elapsed)

    def observe_webhook(self, result: str, state: str | None, elapsed: float) -> None:
        """Called by the webhook worker after every attempt (:mod:`authserver.events.worker`)."""
        self.webhook_deliveries.labels(result).inc()
        if state == "dead":
            self.webhook_deliveries.labels("dead").inc()
        self.webhook_latency.observe(elapsed)

    def exposition(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = self.registry
        return generate_latest(registry) + generate_latest(_ScrapeTimeRegistry())


def upstream_kind(url: str) -> str:
    path = urlparse(url).path.lower()
    if path.endswith(("/openid-configuration", "/oauth-authorization-server")) or "/.well-known/" in path:
        return "discovery"
    if "jwks" in path or path.endswith(("/certs", "/keys")):
        return "jwks"
    if "userinfo" in path:
        return "userinfo"
    return "other"


def _grant() -> str:
    """The grant of a token request, from the body the server parsed strictly (``g.oauth_form``,
    :mod:`authserver.server`); "other" when it never got that far (e.g. a body too large)."""
    form = g.get("oauth_form")
    return _GRANTS.get(form.get("grant_type", ""), "other") if form is not None else "other"


def _result(response) -> str:
    if response.status_code < 400:
        return "ok"
    body = response.get_json(silent=True)
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, str) and len(error) <= 40 else f"http_{response.status_code}"


class _ScrapeTimeRegistry(CollectorRegistry):
    """Gauges read from the database when scraped: the same in every process."""

    def __init__(self):
        super().__init__(auto_describe=False)
        self.register(_KeyStateCollector())
        self.register(_WebhookQueueCollector())


class _KeyStateCollector:
    def collect(self):
        from authserver.models import KeyState, Realm, SigningKey

        keys = GaugeMetricFamily("authserver_signing_keys", "Signing keys by realm and state.",
                                 labels=["realm", "state"])
        up = GaugeMetricFamily("authserver_database_up", "1 when the database answered the scrape.")
        try:
            rows = db.session.execute(
                select(Realm.name, SigningKey.state, func.count())
                .join(SigningKey, SigningKey.realm_id == Realm.id)
                .group_by(Realm.name, SigningKey.state)).all()
        except SQLAlchemyError as exc:
            db.session.rollback()
            log.warning("metrics: database unavailable: %s", exc.__class__.__name__)
            up.add_metric([], 0)
            yield up
            return
        counts = {(realm, str(state)): n for realm, state, n in rows}
        for realm in sorted({realm for realm, _ in counts}):
            for state in KeyState:
                keys.add_metric([realm, state.value], counts.get((realm, state.value), 0))
        up.add_metric([], 1)
        yield keys
        yield up


class _WebhookQueueCollector:
    """Queue depth, age of the oldest pending delivery, deliveries by state (from the database)."""

    def collect(self):
        from authserver.models import WebhookDelivery
        from authserver.models.event import DELIVERY_STATES, PENDING

        by_state = GaugeMetricFamily("authserver_webhook_deliveries_by_state",
                                     "Webhook deliveries kept, by state.", labels=["state"])
        depth = GaugeMetricFamily("authserver_webhook_queue_depth", "Webhook deliveries pending.")
        oldest = GaugeMetricFamily("authserver_webhook_oldest_pending_seconds",
                                   "Age of the oldest pending webhook delivery (0: none).")
        try:
            counts = dict(db.session.execute(select(WebhookDelivery.state, func.count())
                                             .group_by(WebhookDelivery.state)).all())
            first = db.session.scalar(select(func.min(WebhookDelivery.created_at))
                                      .where(WebhookDelivery.state == PENDING))
        except SQLAlchemyError:
            db.session.rollback()
            return
        for state in DELIVERY_STATES:
            by_state.add_metric([state], counts.get(state, 0))
        depth.add_metric([], counts.get(PENDING, 0))
        now = current_app.extensions["authserver"].clock()
        oldest.add_metric([], max(0, now - first) if first is not None else 0)
        yield by_state
        yield depth
        yield oldest

