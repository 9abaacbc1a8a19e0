"""Connector plugin instances, one per IdP connection, rebuilt when the connection changes,
so their discovery and JWKS caches live as long as the process.

A connection's version is its type and configuration, not only ``updated_at``: two updates
within one second (or under a frozen clock) must still rebuild the connector.
"""

from __future__ import annotations

import json
import threading

from authserver.models import IdentityProvider
from authserver.plugin_api import Connector, ConnectorContext
from authserver.plugin_host.loader import connector_class


class ConnectorRegistry:
    def __init__(self, context: ConnectorContext):
        self._context = context
        self._instances: dict[int, tuple[tuple, Connector]] = {}
        self._lock = threading.Lock()

    def connector(self, idp: IdentityProvider) -> Connector:
        version = _version(idp)
        cached = self._instances.get(idp.id)
        if cached and cached[0] == version:
            return cached[1]
        instance = connector_class(idp.type)(idp.config, self._context)
        with self._lock:
            self._instances[idp.id] = (version, instance)
        return instance


def _version(idp: IdentityProvider) -> tuple:
    return idp.updated_at, idp.type, json.dumps(idp.config, sort_keys=True, default=str)
