"""Per-app service objects, kept in ``app.extensions["authserver"]`` (never module globals)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask import current_app

from authserver.clock import SystemClock
from authserver.crypto import SecretBox, SecretHasher
from authserver.keys.service import KeyService
from authserver.outbound.http_client import RequestsHttpClient
from authserver.plugin_api import ConnectorContext
from authserver.plugin_host.connectors import ConnectorRegistry
from authserver.tokens.replay import DatabaseReplayCache


@dataclass
class Services:
    clock: SystemClock
    box: SecretBox
    hasher: SecretHasher
    keys: KeyService
    http: RequestsHttpClient
    replay: DatabaseReplayCache
    connectors: ConnectorRegistry
    realm_rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # name → (id, created_at)


def build_services(config: dict, clock: SystemClock | None = None) -> Services:
    clock = clock or SystemClock()
    box = SecretBox(config["SECRET_KEY"])
    replay = DatabaseReplayCache(clock)
    http = RequestsHttpClient(config["UPSTREAM_CONNECT_TIMEOUT"], config["UPSTREAM_READ_TIMEOUT"])
    context = ConnectorContext(http=http, clock=clock, replay_cache=replay,
                               logger=logging.getLogger("authserver.connectors"))
    return Services(clock=clock, box=box, hasher=SecretHasher(config["SECRET_KEY"]),
                    keys=KeyService(config, box, clock), http=http, replay=replay,
                    connectors=ConnectorRegistry(context))


def services() -> Services:
    return current_app.extensions["authserver"]
