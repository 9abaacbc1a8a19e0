"""Binding a request to the realm named in its URL: one :class:`~authserver.state.RealmContext`
per request (``g.realm_ctx``; ``g.realm`` and ``g.realm_issuer`` for the views that need
only those), built once here and handed down the token path explicitly.

The realm is the process's immutable snapshot of its row
(:class:`~authserver.registry.realms.RealmSnapshot`): binding it touches neither the database
nor the request's session. Nothing on a request path writes the realm row."""

from __future__ import annotations

from flask import g

from authserver.registry.realms import realm_snapshot
from authserver.registry.urls import realm_issuer
from authserver.state import RealmContext, app_state


def bind_realm(endpoint: str | None, values: dict | None) -> None:
    name = (values or {}).pop("realm", None)
    g.realm = realm_snapshot(name)
    g.realm_issuer = realm_issuer(name)
    g.realm_ctx = RealmContext(realm=g.realm, issuer=g.realm_issuer, state=app_state())
