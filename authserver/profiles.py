"""Token profile instances per chat backend, with the vendor credential unsealed once and
kept in memory (rebuilt when the backend changes)."""

from __future__ import annotations

import json
import threading

from authserver.models import ChatBackend
from authserver.plugin_api import PluginConfigError, TokenProfile
from authserver.plugins import profile_class
from authserver.services import services

_instances: dict[int, tuple[int, TokenProfile]] = {}
_lock = threading.Lock()


def credential_context(backend: ChatBackend) -> str:
    return f"backend-credential:{backend.realm_id}:{backend.audience}"


def profile_for(backend: ChatBackend) -> TokenProfile:
    cached = _instances.get(backend.id)
    if cached and cached[0] == backend.updated_at:
        return cached[1]
    instance = _build(backend)
    with _lock:
        _instances[backend.id] = (backend.updated_at, instance)
    return instance


def _build(backend: ChatBackend) -> TokenProfile:
    cls = profile_class(backend.profile)
    if not cls.requires_credential:
        return cls()
    if backend.credential_sealed is None:
        raise PluginConfigError("credential", f"chat backend {backend.audience!r} has no credential")
    sealed = services().box.open(backend.credential_sealed, credential_context(backend))
    return cls(json.loads(sealed))
