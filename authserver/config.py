"""Configuration: defaults, then the instance file, then ``AUTHSERVER_*`` environment variables.

Every setting is checked at start-up (:func:`validate_config`); a bad one stops the app
with a :class:`ConfigError` naming the key, so nothing fails later at the first request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

SIGNING_ALGORITHMS = ("ES256", "RS256", "EdDSA")
_REALM_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")  # as authserver.registry.realms

DEFAULTS: dict[str, Any] = {
    "SQLALCHEMY_DATABASE_URI": None,  # None: SQLite file in the instance folder
    "SQLALCHEMY_ENGINE_OPTIONS": {},
    "ISSUER_BASE_URL": None,  # None: taken from each request (development only)
    "DEFAULT_SIGNING_ALG": "ES256",
    "RSA_KEY_SIZE": 2048,
    "JWKS_MAX_AGE": 300,  # Cache-Control max-age of /jwks, seconds
    "KEY_PREPUBLICATION_SECONDS": 900,  # a `next` key is published this long before it signs
    "KEY_ROTATION_INTERVAL": 0,  # rotate automatically when the active key is this old; 0 = off
    "KEY_CACHE_SECONDS": 30,  # how long a process trusts its in-memory copy of a realm's keys
    "MAX_TOKEN_LIFETIME": 3600,  # cap on any token we issue, seconds
    "DEFAULT_TOKEN_LIFETIME": 900,
    "CLOCK_SKEW_SECONDS": 60,
    "MAX_SUBJECT_TOKEN_BYTES": 16 * 1024,  # subject and actor tokens larger than this are refused unparsed
    "SQLITE_BUSY_TIMEOUT_MS": 5000,
    "MAX_CONTENT_LENGTH": 64 * 1024,
    "ROW_CACHE_SECONDS": 5,  # clients, backends, IdP connections cached this long per process; 0 = off
    "ANONYMOUS_SESSION_LIMIT": 30,  # anonymous sessions one client may create per source address…
    "ANONYMOUS_SESSION_WINDOW": 3600,  # …in this many seconds
    "ADMIN_REALM": "default",  # tokens of this realm's admin clients administer every realm
    # Production (authserver.edge.limits, authserver.observability, authserver.outbound.http_client)
    "REDIS_URL": None,  # shared rate-limit counters; None: the database
    "REDIS_KEY_PREFIX": "authserver:rl:",
    "TOKEN_RATE_LIMIT": 60_000,  # token requests per client per window; 0 = off
    "TOKEN_RATE_WINDOW": 60,
    "AUTH_FAILURE_LIMIT": 10,  # failed client authentications per client and address; 0 = off
    "AUTH_FAILURE_WINDOW": 300,
    "TRUSTED_PROXIES": 0,  # reverse proxies in front that set X-Forwarded-For/-Proto/-Host
    "UPSTREAM_CONNECT_TIMEOUT": 3.05,  # seconds, outbound calls to upstream IdPs
    "UPSTREAM_READ_TIMEOUT": 5.0,
    "UPSTREAM_TOTAL_TIMEOUT": 10.0,  # deadline for a whole upstream call, however slowly it trickles
    "LOG_FORMAT": "json",  # json | text; tests keep Flask's default logging
    "LOG_LEVEL": "INFO",
    # Webhooks (authserver.events): Standard Webhooks delivery by `authserver worker`
    "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": False,  # deliver to loopback/private/link-local addresses (tests, labs)
    "WEBHOOK_CONNECT_TIMEOUT": 3.0,  # seconds to connect to a receiver
    "WEBHOOK_TIMEOUT": 10.0,  # deadline for a whole delivery attempt, seconds
    "WEBHOOK_MAX_RESPONSE_BYTES": 4096,  # of a receiver's answer, read and kept as an excerpt
    "WEBHOOK_RETRY_BASE_SECONDS": 5,  # first retry after about this long, doubling each time…
    "WEBHOOK_RETRY_MAX_SECONDS": 3600,  # …up to this
    "WEBHOOK_MAX_AGE_SECONDS": 3 * 86400,  # a delivery still failing this long after its event is dead
    "WEBHOOK_CLAIM_SECONDS": 60,  # a worker's claim on a delivery expires after this (crash recovery)
    "WEBHOOK_POLL_SECONDS": 1.0,  # how often an idle worker looks for due deliveries
    "WEBHOOK_SECRET_OVERLAP_SECONDS": 86400,  # after rotate-secret, the old secret signs too this long
    "WEBHOOK_RETENTION_SECONDS": 14 * 86400,  # finished deliveries and their events are kept this long
}

_POSITIVE_INTS = ("ANONYMOUS_SESSION_LIMIT", "ANONYMOUS_SESSION_WINDOW", "JWKS_MAX_AGE",
                  "KEY_PREPUBLICATION_SECONDS", "KEY_CACHE_SECONDS", "MAX_TOKEN_LIFETIME",
                  "DEFAULT_TOKEN_LIFETIME", "SQLITE_BUSY_TIMEOUT_MS", "MAX_CONTENT_LENGTH",
                  "MAX_SUBJECT_TOKEN_BYTES")
_NON_NEGATIVE_INTS = ("KEY_ROTATION_INTERVAL", "CLOCK_SKEW_SECONDS", "TOKEN_RATE_LIMIT",
                      "AUTH_FAILURE_LIMIT", "TRUSTED_PROXIES")
_PRODUCTION_POSITIVE_INTS = ("TOKEN_RATE_WINDOW", "AUTH_FAILURE_WINDOW")


class ConfigError(Exception):
    """A setting is missing or unusable; the message names the key."""

    def __init__(self, key: str, message: str):
        super().__init__(f"configuration error: {key}: {message}")
        self.key = key


def default_database_uri(instance_path: str) -> str:
    return "sqlite:///" + os.path.join(instance_path, "authserver.db")


def validate_config(config: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` for the first unusable setting."""
    secret = config.get("SECRET_KEY")
    if not isinstance(secret, str) or len(secret) < 32:
        raise ConfigError("SECRET_KEY", "must be a string of at least 32 characters "
                          "(run `authserver init` to generate the instance config)")
    for key in _POSITIVE_INTS:
        _require_int(config, key, minimum=1)
    for key in _NON_NEGATIVE_INTS:
        _require_int(config, key, minimum=0)
    if config["DEFAULT_SIGNING_ALG"] not in SIGNING_ALGORITHMS:
        raise ConfigError("DEFAULT_SIGNING_ALG", f"must be one of {', '.join(SIGNING_ALGORITHMS)}")
    if _require_int(config, "RSA_KEY_SIZE", minimum=2048) % 8:
        raise ConfigError("RSA_KEY_SIZE", "must be a multiple of 8")
    if config["KEY_PREPUBLICATION_SECONDS"] <= config["JWKS_MAX_AGE"]:
        raise ConfigError("KEY_PREPUBLICATION_SECONDS",
                          "must be longer than JWKS_MAX_AGE, so every JWKS cache sees a new key "
                          "before it signs")
    if config["KEY_CACHE_SECONDS"] > config["JWKS_MAX_AGE"]:
        raise ConfigError("KEY_CACHE_SECONDS", "must not exceed JWKS_MAX_AGE")
    if config["DEFAULT_TOKEN_LIFETIME"] > config["MAX_TOKEN_LIFETIME"]:
        raise ConfigError("DEFAULT_TOKEN_LIFETIME", "must not exceed MAX_TOKEN_LIFETIME")
    if not isinstance(config["ADMIN_REALM"], str) or not _REALM_NAME.match(config["ADMIN_REALM"]):
        raise ConfigError("ADMIN_REALM", f"must be a realm name, got {config['ADMIN_REALM']!r}")
    _validate_base_url(config.get("ISSUER_BASE_URL"))
    _validate_production(config)
    _validate_webhooks(config)
    _validate_database_uri(config.get("SQLALCHEMY_DATABASE_URI"))


def _require_int(config: Mapping[str, Any], key: str, minimum: int) -> int:
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(key, f"must be an integer >= {minimum}, got {value!r}")
    return value


def _validate_base_url(value: Any) -> None:
    if value is None:
        return
    parsed = urlparse(value) if isinstance(value, str) else None
    if not parsed or parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError("ISSUER_BASE_URL", f"must be an absolute http(s) URL, got {value!r}")
    if parsed.query or parsed.fragment or value.endswith("/"):
        raise ConfigError("ISSUER_BASE_URL", "must have no query, fragment or trailing slash")


def _validate_database_uri(value: Any) -> None:
    if not isinstance(value, str) or not value.startswith(("sqlite:", "postgresql")):
        raise ConfigError("SQLALCHEMY_DATABASE_URI",
                          f"must be a sqlite:// or postgresql+psycopg:// URL, got {value!r}")
    if value.startswith("postgresql://") or value.startswith("postgresql+psycopg2"):
        raise ConfigError("SQLALCHEMY_DATABASE_URI",
                          "use the psycopg 3 driver: postgresql+psycopg://…")


def _validate_production(config: Mapping[str, Any]) -> None:
    for key in _PRODUCTION_POSITIVE_INTS:
        _require_int(config, key, minimum=1)
    for key in ("UPSTREAM_CONNECT_TIMEOUT", "UPSTREAM_READ_TIMEOUT", "UPSTREAM_TOTAL_TIMEOUT"):
        value = config.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 60:
            raise ConfigError(key, f"must be a number of seconds in (0, 60], got {value!r}")
    url = config.get("REDIS_URL")
    if url is not None and (not isinstance(url, str)
                            or not url.startswith(("redis://", "rediss://", "unix://"))):
        raise ConfigError("REDIS_URL", f"must be a redis:// or rediss:// URL, got {url!r}")
    if config.get("LOG_FORMAT") not in ("json", "text"):
        raise ConfigError("LOG_FORMAT", f"must be json or text, got {config.get('LOG_FORMAT')!r}")
    if config.get("LOG_LEVEL") not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError("LOG_LEVEL", "must be DEBUG, INFO, WARNING or ERROR")


_WEBHOOK_INTS = ("WEBHOOK_MAX_RESPONSE_BYTES", "WEBHOOK_RETRY_BASE_SECONDS", "WEBHOOK_RETRY_MAX_SECONDS",
                 "WEBHOOK_MAX_AGE_SECONDS", "WEBHOOK_CLAIM_SECONDS", "WEBHOOK_RETENTION_SECONDS")


def _validate_webhooks(config: Mapping[str, Any]) -> None:
    if not isinstance(config.get("WEBHOOK_ALLOW_PRIVATE_ADDRESSES"), bool):
        raise ConfigError("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", "must be true or false")
    for key in _WEBHOOK_INTS:
        _require_int(config, key, minimum=1)
    _require_int(config, "WEBHOOK_SECRET_OVERLAP_SECONDS", minimum=0)
    for key in ("WEBHOOK_CONNECT_TIMEOUT", "WEBHOOK_TIMEOUT", "WEBHOOK_POLL_SECONDS"):
        value = config.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 60:
            raise ConfigError(key, f"must be a number of seconds in (0, 60], got {value!r}")
    if config["WEBHOOK_CONNECT_TIMEOUT"] > config["WEBHOOK_TIMEOUT"]:
        raise ConfigError("WEBHOOK_CONNECT_TIMEOUT", "must not exceed WEBHOOK_TIMEOUT")
    if config["WEBHOOK_CLAIM_SECONDS"] <= config["WEBHOOK_TIMEOUT"]:
        raise ConfigError("WEBHOOK_CLAIM_SECONDS", "must be longer than WEBHOOK_TIMEOUT, so a claim "
                          "outlives the attempt it covers")
    if config["WEBHOOK_RETRY_BASE_SECONDS"] > config["WEBHOOK_RETRY_MAX_SECONDS"]:
        raise ConfigError("WEBHOOK_RETRY_BASE_SECONDS", "must not exceed WEBHOOK_RETRY_MAX_SECONDS")
