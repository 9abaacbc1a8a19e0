"""Configuration: defaults, then the instance file, then ``AUTHSERVER_*`` environment variables.

:data:`SETTINGS` is the one table of every setting: its default, the check its value must pass
and what it means. Start-up runs the checks and the :data:`RULES` between settings
(:func:`validate_config`); a bad value, or a name that is no setting (a typo), stops the app
with a :class:`ConfigError` naming the key, so nothing fails later at the first request.
``authserver config reference`` renders the same table as ``docs/configuration.md``.
"""

from __future__ import annotations

import copy
import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from flask import Config, Flask

ENV_PREFIX = "AUTHSERVER"
SIGNING_ALGORITHMS = ("ES256", "RS256", "EdDSA")
_REALM_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")  # as authserver.registry.realms


class ConfigError(Exception):
    """A setting is missing or unusable; the message names the key."""

    def __init__(self, key: str, message: str):
        super().__init__(f"configuration error: {key}: {message}")
        self.key = key


# --- the checks a value must pass, each able to say what it accepts ---------------------


@dataclass(frozen=True)
class Check:
    accepts: str  # for people: the reference and the error messages
    test: Callable[[Any], bool]
    optional: bool = False  # None (the setting's "unset") is accepted too

    def __call__(self, key: str, value: Any) -> None:
        if value is None and self.optional:
            return
        if not self.test(value):
            raise ConfigError(key, f"must be {self.accepts}, got {_shown(key, value)}")


def _shown(key: str, value: Any) -> str:
    return "a value not shown" if value is not None and key in SECRET_SETTINGS else repr(value)


def integer(minimum: int, multiple_of: int = 1) -> Check:
    extra = f", a multiple of {multiple_of}" if multiple_of > 1 else ""
    return Check(f"an integer >= {minimum}{extra}",
                 lambda v: _is_int(v) and v >= minimum and v % multiple_of == 0)


def seconds(maximum: float = 60) -> Check:
    return Check(f"a number of seconds in (0, {maximum:g}]",
                 lambda v: (_is_int(v) or isinstance(v, float)) and 0 < v <= maximum)


def one_of(*choices: str) -> Check:
    accepts = " or ".join(choices) if len(choices) == 2 else f"one of {', '.join(choices)}"
    return Check(accepts, lambda v: v in choices)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _base_url(value: Any) -> bool:
    parsed = urlparse(value) if isinstance(value, str) else None
    return bool(parsed and parsed.scheme in ("http", "https") and parsed.netloc
                and not parsed.query and not parsed.fragment and not value.endswith("/"))


def _database_url(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith("sqlite:") or value.startswith("postgresql+psycopg:"))


def _secret(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 32


BOOLEAN = Check("true or false", lambda v: isinstance(v, bool))
TEXT = Check("a string", lambda v: isinstance(v, str))
MAPPING = Check("a JSON object (a dict)", lambda v: isinstance(v, dict))
SECRET = Check("a string of at least 32 characters (run `authserver init` to generate the instance "
               "config)", _secret)
SECRET_LIST = Check("a list of strings of at least 32 characters",
                    lambda v: isinstance(v, list) and all(_secret(k) for k in v))
BASE_URL = Check("an absolute http(s) URL without query, fragment or trailing slash", _base_url,
                 optional=True)
DATABASE_URL = Check("a sqlite:// or postgresql+psycopg:// URL (psycopg 3)", _database_url)
REDIS_URL = Check("a redis://, rediss:// or unix:// URL",
                  lambda v: isinstance(v, str) and v.startswith(("redis://", "rediss://", "unix://")),
                  optional=True)
REALM = Check("a realm name (lower-case letters, digits, inner hyphens)",
              lambda v: isinstance(v, str) and bool(_REALM_NAME.match(v)))
BIND = Check("HOST:PORT, or none", lambda v: isinstance(v, str) and (
    v.strip().lower() in ("", "none", "off") or bool(re.fullmatch(r"\[?[^\s\[\]]+\]?:[0-9]{1,5}", v))),
    optional=True)
OPTIONAL_SECRET = Check("a string of at least 32 characters", _secret, optional=True)


# --- every setting ------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    check: Check
    meaning: str
    section: str
    default_text: str | None = None  # when the default is computed, say how
    secret: bool = False  # redacted wherever the configuration is shown


def _settings(section: str, *rows: tuple) -> list[Setting]:
    return [Setting(name, default, check, meaning, section, *extra) for name, default, check, meaning, *extra
            in rows]


SETTINGS: tuple[Setting, ...] = tuple([
    *_settings(
        "Secrets and storage",
        ("SECRET_KEY", None, SECRET, "Seals what the database keeps secret: signing keys, IdP secrets, "
         "vendor credentials, webhook secrets and the key of the client-secret hashes. Every host of one "
         "database needs the same one (`authserver secrets status` shows its fingerprint).",
         "none: `authserver init` writes one into instance/config.py", True),
        ("SECRET_KEY_FALLBACKS", [], SECRET_LIST, "Older SECRET_KEYs that still open what they sealed, "
         "during a SECRET_KEY rotation (`authserver secrets reseal`).", None, True),
        ("SQLALCHEMY_DATABASE_URI", None, DATABASE_URL, "The database. Production: PostgreSQL "
         "(postgresql+psycopg://…).", "SQLite file authserver.db in the instance folder"),
        ("SQLALCHEMY_ENGINE_OPTIONS", {}, MAPPING, "SQLAlchemy create_engine() options (pool size, …)."),
        ("SQLITE_BUSY_TIMEOUT_MS", 5000, integer(1), "How long a SQLite writer waits for the lock."),
    ),
    *_settings(
        "Issuer and signing keys",
        ("ISSUER_BASE_URL", None, BASE_URL, "Public base URL; a realm's issuer is {base}/realms/{realm}.",
         "taken from each request (development only)"),
        ("ADMIN_REALM", "default", REALM, "Tokens of this realm's admin clients administer every realm."),
        ("DEFAULT_SIGNING_ALG", "ES256", one_of(*SIGNING_ALGORITHMS), "Algorithm of new signing keys."),
        ("RSA_KEY_SIZE", 2048, integer(2048, multiple_of=8), "Bits of new RSA signing keys."),
        ("JWKS_MAX_AGE", 300, integer(1), "Cache-Control max-age of /jwks and discovery, seconds."),
        ("KEY_PREPUBLICATION_SECONDS", 900, integer(1), "A `next` key is published this long before "
         "it signs."),
        ("KEY_ROTATION_INTERVAL", 0, integer(0), "Rotate automatically when the active key is this old, "
         "seconds; 0 = off."),
        ("KEY_CACHE_SECONDS", 30, integer(1), "How long a process trusts its in-memory copy of a realm's "
         "keys."),
    ),
    *_settings(
        "Tokens and requests",
        ("MAX_TOKEN_LIFETIME", 3600, integer(1), "Cap on any token we issue, seconds."),
        ("DEFAULT_TOKEN_LIFETIME", 900, integer(1), "Lifetime of a token when its chat backend sets none."),
        ("CLOCK_SKEW_SECONDS", 60, integer(0), "Leeway when checking exp/nbf/iat of tokens we receive."),
        ("MAX_SUBJECT_TOKEN_BYTES", 16 * 1024, integer(1), "Subject and actor tokens larger than this are "
         "refused unparsed."),
        ("MAX_CONTENT_LENGTH", 64 * 1024, integer(1), "Request bodies larger than this get 413."),
        ("ROW_CACHE_SECONDS", 5, integer(0), "Clients, backends and IdP connections are cached this long "
         "per process; 0 = off."),
        ("ANONYMOUS_SESSION_LIMIT", 30, integer(1), "Anonymous sessions one client may create per source "
         "address…"),
        ("ANONYMOUS_SESSION_WINDOW", 3600, integer(1), "…in this many seconds."),
        ("BROWSER_LOGIN_TIMEOUT_SECONDS", 600, integer(60), "How long a browser login may take at the upstream "
         "IdP, from leaving authserver to coming back; an answer later than that is refused."),
        ("AUTHORIZATION_REQUEST_SECONDS", 600, integer(60), "How long a pushed authorization request "
         "(its expires_in) or a login in progress at authserver's pages stays usable."),
        ("AUTHORIZATION_CODE_SECONDS", 60, integer(10), "Lifetime of an authorization code (RFC 6749 §4.1.2 "
         "recommends at most 600)."),
        ("BROWSER_SESSION_SECONDS", 8 * 3600, integer(60), "How long a browser session gives single sign-on "
         "to the realm's clients."),
        ("CONSOLE_LINK_SECONDS", 600, integer(60), "How long a link printed by `authserver admin console-link` "
         "stays usable (it is single use)."),
        ("CONSOLE_SESSION_SECONDS", 8 * 3600, integer(300), "How long an admin console sign-in lasts."),
    ),
    *_settings(
        "Production",
        ("REDIS_URL", None, REDIS_URL, "Shared rate-limit counters.", "none: the database"),
        ("REDIS_KEY_PREFIX", "authserver:rl:", TEXT, "Prefix of the rate-limit keys in Redis."),
        ("TOKEN_RATE_LIMIT", 60_000, integer(0), "Token requests per client per window; 0 = off."),
        ("TOKEN_RATE_WINDOW", 60, integer(1), "Window of TOKEN_RATE_LIMIT, seconds."),
        ("AUTH_FAILURE_LIMIT", 10, integer(0), "Failed client authentications per client and address per "
         "window; 0 = off."),
        ("AUTH_FAILURE_WINDOW", 300, integer(1), "Window of AUTH_FAILURE_LIMIT, seconds."),
        ("TRUSTED_PROXIES", 0, integer(0), "Reverse proxies in front that set X-Forwarded-For/-Proto/-Host."),
        ("UPSTREAM_CONNECT_TIMEOUT", 3.05, seconds(), "Connect timeout of calls to upstream IdPs."),
        ("UPSTREAM_READ_TIMEOUT", 5.0, seconds(), "Read timeout of calls to upstream IdPs."),
        ("UPSTREAM_TOTAL_TIMEOUT", 10.0, seconds(), "Deadline for a whole upstream call, however slowly it "
         "trickles."),
        ("LOG_FORMAT", "json", one_of("json", "text"), "One JSON object per line, or text."),
        ("LOG_LEVEL", "INFO", one_of("DEBUG", "INFO", "WARNING", "ERROR"), "Least severe level logged."),
        ("METRICS_BIND", "127.0.0.1:9100", BIND, "Where `authserver serve` serves Prometheus /metrics: a "
         "management bind of its own, never the public port (`serve --metrics-bind` overrides; none: off)."),
        ("METRICS_TOKEN", None, OPTIONAL_SECRET, "When set, a scrape of /metrics must send "
         "`Authorization: Bearer <token>` (a management bind reachable beyond this host).",
         "none: no token (keep the bind on loopback or a management network)", True),
    ),
    *_settings(
        "Webhooks (`authserver worker`)",
        ("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", False, BOOLEAN, "Deliver to loopback, private and link-local "
         "addresses (tests, labs)."),
        ("WEBHOOK_CONNECT_TIMEOUT", 3.0, seconds(), "Seconds to connect to a receiver."),
        ("WEBHOOK_TIMEOUT", 10.0, seconds(), "Deadline for a whole delivery attempt, seconds."),
        ("WEBHOOK_MAX_RESPONSE_BYTES", 4096, integer(1), "Of a receiver's answer, read and kept as an "
         "excerpt."),
        ("WEBHOOK_RETRY_BASE_SECONDS", 5, integer(1), "First retry after about this long, doubling each "
         "time…"),
        ("WEBHOOK_RETRY_MAX_SECONDS", 3600, integer(1), "…up to this."),
        ("WEBHOOK_MAX_AGE_SECONDS", 3 * 86400, integer(1), "A delivery still failing this long after its "
         "event is dead."),
        ("WEBHOOK_CLAIM_SECONDS", 60, integer(1), "A worker's claim on a delivery expires after this (crash "
         "recovery)."),
        ("WEBHOOK_POLL_SECONDS", 1.0, seconds(), "How often an idle worker looks for due deliveries."),
        ("WEBHOOK_SECRET_OVERLAP_SECONDS", 86400, integer(0), "After rotate-secret, the old secret signs too "
         "this long."),
        ("WEBHOOK_RETENTION_SECONDS", 14 * 86400, integer(1), "Finished deliveries and their events are kept "
         "this long."),
    ),
])
BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}
SECRET_SETTINGS = frozenset(s.name for s in SETTINGS if s.secret)


@dataclass(frozen=True)
class Rule:
    key: str  # the setting the error names
    requirement: str
    holds: Callable[[Mapping[str, Any]], bool]


RULES: tuple[Rule, ...] = (
    Rule("KEY_PREPUBLICATION_SECONDS", "must be longer than JWKS_MAX_AGE, so every JWKS cache sees a new "
         "key before it signs", lambda c: c["KEY_PREPUBLICATION_SECONDS"] > c["JWKS_MAX_AGE"]),
    Rule("KEY_CACHE_SECONDS", "must not exceed JWKS_MAX_AGE",
         lambda c: c["KEY_CACHE_SECONDS"] <= c["JWKS_MAX_AGE"]),
    Rule("DEFAULT_TOKEN_LIFETIME", "must not exceed MAX_TOKEN_LIFETIME",
         lambda c: c["DEFAULT_TOKEN_LIFETIME"] <= c["MAX_TOKEN_LIFETIME"]),
    Rule("WEBHOOK_CONNECT_TIMEOUT", "must not exceed WEBHOOK_TIMEOUT",
         lambda c: c["WEBHOOK_CONNECT_TIMEOUT"] <= c["WEBHOOK_TIMEOUT"]),
    Rule("WEBHOOK_CLAIM_SECONDS", "must be longer than WEBHOOK_TIMEOUT, so a claim outlives the attempt it "
         "covers", lambda c: c["WEBHOOK_CLAIM_SECONDS"] > c["WEBHOOK_TIMEOUT"]),
    Rule("WEBHOOK_RETRY_BASE_SECONDS", "must not exceed WEBHOOK_RETRY_MAX_SECONDS",
         lambda c: c["WEBHOOK_RETRY_BASE_SECONDS"] <= c["WEBHOOK_RETRY_MAX_SECONDS"]),
)

#: ``AUTHSERVER_*`` environment variables that are not settings, and who reads them.
OTHER_ENVIRONMENT: dict[str, str] = {
    "INSTANCE_PATH": "the instance folder (default: instance/ of the checkout)",
    "ADMIN_URL": "the CLI: the server whose admin API the admin commands use (as --server)",
    "ADMIN_CLIENT_ID": "the CLI with --server: the admin client (as --client-id)",
    "ADMIN_CLIENT_SECRET": "the CLI with --server: its secret (as --client-secret)",
    "TEST_DATABASE_URL": "the test suite: run on this PostgreSQL database instead of SQLite",
    "TEST_POSTGRES_URL": "scripts/test: also run the suite on this PostgreSQL database",
    "ISSUER": "examples/chat_backend: authserver's realm issuer URL",
    "WEBHOOK_SECRETS": "examples/chat_backend: the webhook secrets it accepts",
}
#: Settings of Flask and Flask-SQLAlchemy themselves, accepted as they document them.
LIBRARY_SETTINGS = frozenset(Flask.default_config) | {
    "SQLALCHEMY_BINDS", "SQLALCHEMY_ECHO", "SQLALCHEMY_RECORD_QUERIES", "SQLALCHEMY_TRACK_MODIFICATIONS"}


def validate_config(config: Mapping[str, Any]) -> None:
    """Raise :class:`ConfigError` for the first unusable setting."""
    for setting in SETTINGS:
        setting.check(setting.name, config.get(setting.name))
    for rule in RULES:
        if not rule.holds(config):
            raise ConfigError(rule.key, rule.requirement)


# --- the layers ------------------------------------------------------------------------------


@dataclass
class Layers:
    """The values of the instance file and of the environment, before they are merged."""

    from_file: dict[str, Any]
    from_environment: dict[str, Any]

    def merged(self) -> dict[str, Any]:
        return {**DEFAULTS, **self.from_file, **self.from_environment}

    def source(self, key: str) -> str:
        if key in self.from_environment:
            return "environment"
        return "instance file" if key in self.from_file else "default"


def read_layers(instance_path: str) -> Layers:
    """Read ``config.py`` and the ``AUTHSERVER_*`` variables, refusing unknown names (in
    ``config.py``, names starting with ``_`` are the file's own helpers, not settings)."""
    path = os.path.join(instance_path, "config.py")
    loaded = Config(instance_path)
    loaded.from_pyfile(path, silent=True)
    from_file = {name: value for name, value in loaded.items() if not name.startswith("_")}  # _X: helpers
    for name in from_file:
        _refuse_unknown(name, f" (in {path})")
    prefix = f"{ENV_PREFIX}_"
    names = {variable[len(prefix):].split("__")[0] for variable in os.environ if variable.startswith(prefix)}
    names -= set(OTHER_ENVIRONMENT)
    for name in sorted(names):
        _refuse_unknown(name, "", shown=prefix + name)
    merged = Config(instance_path)  # Flask's parsing: JSON values, "__" into nested dicts
    merged.update({**copy.deepcopy(DEFAULTS), **from_file})
    merged.from_prefixed_env(ENV_PREFIX)
    return Layers(dict(from_file), {name: merged[name] for name in names})


def _refuse_unknown(name: str, where: str, shown: str | None = None) -> None:
    if name in BY_NAME or name in LIBRARY_SETTINGS:
        return
    shown = shown or name
    near = difflib.get_close_matches(name, [*BY_NAME, *sorted(LIBRARY_SETTINGS)], n=1, cutoff=0.6)
    hint = f"did you mean {shown[:len(shown) - len(name)]}{near[0]}?" if near else \
        "see `authserver config reference`"
    raise ConfigError(shown, f"unknown setting{where}; {hint}")


def default_database_uri(instance_path: str) -> str:
    return "sqlite:///" + os.path.join(instance_path, "authserver.db")
