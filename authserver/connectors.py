"""Connector plugin instances, one per IdP connection, rebuilt when the connection changes,
so their discovery and JWKS caches live as long as the process."""

from __future__ import annotations

import threading

from authserver.models import IdentityProvider
from authserver.plugin_api import Connector, ConnectorContext
from authserver.plugins import connector_class


class ConnectorRegistry:
    def __init__(self, context: ConnectorContext):
        self._context = context
        self._instances: dict[int, tuple[int, Connector]] = {}
        self._lock = threading.Lock()

    def connector(self, idp: IdentityProvider) -> Connector:
        cached = self._instances.get(idp.id)
        if cached and cached[0] == idp.updated_at:
            return cached[1]
        instance = connector_class(idp.type)(idp.config, self._context)
        with self._lock:
            self._instances[idp.id] = (idp.updated_at, instance)
        return instance
