"""Token profile instances per chat backend, with the vendor credential unsealed once and
kept in memory (rebuilt when the backend's profile or credential changes).

The instances live in ``app.extensions``: two apps on two databases never share one, even
when their backends have the same row id.
"""

from __future__ import annotations

import json
import threading

from flask import current_app

from authserver.models import ChatBackend
from authserver.plugin_api import PluginConfigError, TokenProfile
from authserver.plugin_host.loader import profile_class
from authserver.state import services

EXTENSION = "authserver.plugin_host.profiles"
_lock = threading.Lock()


def credential_context(backend: ChatBackend) -> str:
    return f"backend-credential:{backend.realm_id}:{backend.audience}"


def profile_for(backend: ChatBackend) -> TokenProfile:
    instances = _instances()
    version = (backend.updated_at, backend.profile, backend.credential_sealed)
    cached = instances.get(backend.id)
    if cached and cached[0] == version:
        return cached[1]
    instance = _build(backend)
    with _lock:
        instances[backend.id] = (version, instance)
    return instance


def _instances() -> dict[int, tuple[tuple, TokenProfile]]:
    extensions = current_app.extensions
    if EXTENSION not in extensions:
        with _lock:
            extensions.setdefault(EXTENSION, {})
    return extensions[EXTENSION]


def _build(backend: ChatBackend) -> TokenProfile:
    cls = profile_class(backend.profile)
    if not cls.requires_credential:
        return cls()
    if backend.credential_sealed is None:
        raise PluginConfigError("credential", f"chat backend {backend.audience!r} has no credential")
    sealed = services().box.open(backend.credential_sealed, credential_context(backend))
    return cls(json.loads(sealed))
