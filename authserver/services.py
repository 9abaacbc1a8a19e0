"""Per-app service objects, kept in ``app.extensions["authserver"]`` (never module globals)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from authserver.clock import SystemClock
from authserver.crypto import SecretBox, SecretHasher
from authserver.keys import KeyService


@dataclass
class Services:
    clock: SystemClock
    box: SecretBox
    hasher: SecretHasher
    keys: KeyService


def build_services(config: dict, clock: SystemClock | None = None) -> Services:
    clock = clock or SystemClock()
    box = SecretBox(config["SECRET_KEY"])
    return Services(clock=clock, box=box, hasher=SecretHasher(config["SECRET_KEY"]),
                    keys=KeyService(config, box, clock))


def services() -> Services:
    return current_app.extensions["authserver"]
