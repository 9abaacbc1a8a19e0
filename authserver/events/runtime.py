"""The webhook settings and HTTP sender of one app, built from its configuration on first
use and kept in ``app.extensions`` (tests replace the sender's resolver there)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

from authserver.events.delivery import Sender

EXTENSION = "authserver.webhooks"


@dataclass(frozen=True)
class WebhookSettings:
    retry_base: int
    retry_max: int
    max_age: int
    claim_seconds: int
    poll_seconds: float
    secret_overlap: int
    retention: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> WebhookSettings:
        return cls(retry_base=config["WEBHOOK_RETRY_BASE_SECONDS"], retry_max=config["WEBHOOK_RETRY_MAX_SECONDS"],
                   max_age=config["WEBHOOK_MAX_AGE_SECONDS"], claim_seconds=config["WEBHOOK_CLAIM_SECONDS"],
                   poll_seconds=config["WEBHOOK_POLL_SECONDS"],
                   secret_overlap=config["WEBHOOK_SECRET_OVERLAP_SECONDS"],
                   retention=config["WEBHOOK_RETENTION_SECONDS"])


@dataclass
class WebhookRuntime:
    settings: WebhookSettings
    sender: Sender


def webhook_runtime(app: Flask | None = None) -> WebhookRuntime:
    app = app or current_app
    runtime = app.extensions.get(EXTENSION)
    if runtime is None:
        config = app.config
        sender = Sender(config["WEBHOOK_CONNECT_TIMEOUT"], config["WEBHOOK_TIMEOUT"],
                        config["WEBHOOK_MAX_RESPONSE_BYTES"], config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"])
        runtime = app.extensions.setdefault(EXTENSION, WebhookRuntime(WebhookSettings.from_config(config), sender))
    return runtime
