"""Per-app state, built once by :func:`authserver.create_app` and kept in
``app.extensions["authserver"]`` (never in module globals, so a test can build many apps).

:class:`AppState` holds the collaborators (clock, secret box and hasher, key service, HTTP
client, replay cache, plugin registries, row cache, usage memo, the token path's compiled
reads and signers) and the settings the token path reads on every request. A request is
bound to a :class:`RealmContext` at the edge (:mod:`authserver.edge.realm_binding`), and the
token path receives that context explicitly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import current_app

from authserver.clock import SystemClock
from authserver.crypto import SecretBox, SecretHasher
from authserver.keys.service import ActiveKey, KeyService
from authserver.models import Realm
from authserver.outbound.client_jwks import ClientKeys
from authserver.outbound.http_client import RequestsHttpClient
from authserver.plugin_api import ConnectorContext
from authserver.plugin_host.connectors import ConnectorRegistry
from authserver.plugin_host.profiles import ProfileRegistry
from authserver.registry.row_cache import RowCache
from authserver.tokens.jws import Signers
from authserver.tokens.reads import Reads
from authserver.tokens.replay import DatabaseReplayCache
from authserver.tokens.usage import Recorded

if TYPE_CHECKING:
    from authserver.registry.realms import RealmSnapshot

EXTENSION = "authserver"


@dataclass(frozen=True)
class TokenSettings:
    """The settings the token path reads on every request, read once from the config."""

    max_token_lifetime: int
    default_token_lifetime: int
    clock_skew: int
    max_subject_token_bytes: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> TokenSettings:
        return cls(max_token_lifetime=config["MAX_TOKEN_LIFETIME"],
                   default_token_lifetime=config["DEFAULT_TOKEN_LIFETIME"],
                   clock_skew=config["CLOCK_SKEW_SECONDS"],
                   max_subject_token_bytes=config["MAX_SUBJECT_TOKEN_BYTES"])


@dataclass
class AppState:
    settings: TokenSettings
    clock: SystemClock
    box: SecretBox
    hasher: SecretHasher
    keys: KeyService
    http: RequestsHttpClient
    client_keys: ClientKeys
    replay: DatabaseReplayCache
    connectors: ConnectorRegistry
    profiles: ProfileRegistry
    row_cache: RowCache
    usage: Recorded
    reads: Reads
    signers: Signers
    #: name → (snapshot, trusted until): :func:`authserver.registry.realms.realm_snapshot`
    realm_rows: dict[str, tuple[RealmSnapshot, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class RealmContext:
    """What a request of one realm works with: the realm (on the request path a detached
    :class:`~authserver.registry.realms.RealmSnapshot`, never written through), its issuer
    URL, the app state."""

    realm: Realm | RealmSnapshot
    issuer: str
    state: AppState
    _memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def signing_key(self) -> ActiveKey:
        """The realm's active key, taken once per request. The grants take it before the
        identity decision writes anything: a refresh of the key cache commits its own key
        maintenance, which must never land inside the request's transaction."""
        key = self._memo.get("signing_key")
        if key is None:
            key = self._memo["signing_key"] = self.state.keys.signing_key(self.realm.name)
        return key

    @property
    def clock(self) -> SystemClock:
        return self.state.clock

    @property
    def settings(self) -> TokenSettings:
        return self.state.settings

    def now(self) -> int:
        return int(self.state.clock())


def build_state(config: Mapping[str, Any], clock: SystemClock | None = None) -> AppState:
    clock = clock or SystemClock()
    settings = TokenSettings.from_config(config)
    box = SecretBox(config["SECRET_KEY"])
    replay = DatabaseReplayCache(clock)
    http = RequestsHttpClient(config["UPSTREAM_CONNECT_TIMEOUT"], config["UPSTREAM_READ_TIMEOUT"],
                              config["UPSTREAM_TOTAL_TIMEOUT"])
    context = ConnectorContext(http=http, clock=clock, logger=logging.getLogger("authserver.connectors"),
                               clock_skew=settings.clock_skew,
                               max_token_bytes=settings.max_subject_token_bytes)
    return AppState(settings=settings, clock=clock, box=box, hasher=SecretHasher(config["SECRET_KEY"]),
                    keys=KeyService(config, box, clock), http=http,
                    client_keys=ClientKeys(http, clock), replay=replay,
                    connectors=ConnectorRegistry(context), profiles=ProfileRegistry(box),
                    row_cache=RowCache(config["ROW_CACHE_SECONDS"], clock), usage=Recorded(), reads=Reads(),
                    signers=Signers())


def app_state() -> AppState:
    return current_app.extensions[EXTENSION]
