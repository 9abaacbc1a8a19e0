"""Binding a request to the realm named in its URL (``g.realm``, ``g.realm_issuer``)."""

from __future__ import annotations

from flask import g

from authserver.registry.realms import get_realm
from authserver.registry.urls import realm_issuer


def bind_realm(endpoint: str | None, values: dict | None) -> None:
    name = (values or {}).pop("realm", None)
    g.realm = get_realm(name)
    g.realm_issuer = realm_issuer(name)
