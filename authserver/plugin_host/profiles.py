"""Token profile instances, one per chat backend, with the vendor credential unsealed once
and kept in memory (rebuilt when the backend's profile or credential changes).

The registry belongs to one app (:class:`authserver.state.AppState`): two apps on two
databases never share an instance, even when their backends have the same row id.
"""

from __future__ import annotations

import json
import threading

from authserver.crypto import SecretBox
from authserver.models import ChatBackend
from authserver.plugin_api import PluginConfigError, TokenProfile
from authserver.plugin_host.loader import profile_class


def credential_context(backend: ChatBackend) -> str:
    return f"backend-credential:{backend.realm_id}:{backend.audience}"


class ProfileRegistry:
    def __init__(self, box: SecretBox):
        self._box = box
        self._instances: dict[int, tuple[tuple, TokenProfile]] = {}
        self._lock = threading.Lock()

    def for_backend(self, backend: ChatBackend) -> TokenProfile:
        """The backend's profile; raises :class:`PluginConfigError` when it is misconfigured."""
        version = (backend.updated_at, backend.profile, backend.credential_sealed)
        cached = self._instances.get(backend.id)
        if cached and cached[0] == version:
            return cached[1]
        instance = self._build(backend)
        with self._lock:
            self._instances[backend.id] = (version, instance)
        return instance

    def _build(self, backend: ChatBackend) -> TokenProfile:
        cls = profile_class(backend.profile)
        if not cls.requires_credential:
            return cls()
        if backend.credential_sealed is None:
            raise PluginConfigError("credential", f"chat backend {backend.audience!r} has no credential")
        sealed = self._box.open(backend.credential_sealed, credential_context(backend))
        return cls(json.loads(sealed))
