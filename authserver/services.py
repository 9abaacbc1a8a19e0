"""Per-app service objects, kept in ``app.extensions["authserver"]`` (never module globals)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from authserver.clock import SystemClock
from authserver.crypto import SecretBox, SecretHasher
from authserver.keys import KeyService
from authserver.replay import DatabaseReplayCache


@dataclass
class Services:
    clock: SystemClock
    box: SecretBox
    hasher: SecretHasher
    keys: KeyService
    replay: DatabaseReplayCache


def build_services(config: dict, clock: SystemClock | None = None) -> Services:
    clock = clock or SystemClock()
    box = SecretBox(config["SECRET_KEY"])
    return Services(clock=clock, box=box, hasher=SecretHasher(config["SECRET_KEY"]),
                    keys=KeyService(config, box, clock),
                    replay=DatabaseReplayCache(clock))


def services() -> Services:
    return current_app.extensions["authserver"]
