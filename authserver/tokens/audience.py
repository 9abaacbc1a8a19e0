"""Which chat backend a token is for: RFC 8693 ``audience`` or RFC 8707 ``resource``,
checked against the client's allowed audiences (``invalid_target`` otherwise)."""

from __future__ import annotations

from authserver.errors import InvalidTargetError
from authserver.models import ChatBackend, Client, Realm
from authserver.registry.backends import find_backend
from authserver.registry.row_cache import cached


def requested_target(form) -> str | None:
    values = form.getlist("audience") + form.getlist("resource")
    if len(values) > 1:
        raise InvalidTargetError(description="Request one audience at a time.")
    return values[0] if values else None


def resolve_backend(realm: Realm, client: Client, target: str | None) -> ChatBackend:
    if target is None:
        if len(client.audiences) != 1:
            raise InvalidTargetError(description="Name the chat backend with 'audience'.")
        target = client.audiences[0]
    if target not in client.audiences:
        raise InvalidTargetError(description="The client may not request tokens for this audience.")
    backend = cached(("backend", realm.id, target), lambda: find_backend(realm, target))
    if backend is None:
        raise InvalidTargetError(description="No such chat backend.")
    return backend
