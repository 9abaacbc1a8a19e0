"""Issuer and endpoint URLs, from ``ISSUER_BASE_URL`` (right behind a reverse proxy)."""

from __future__ import annotations

from flask import current_app, request


def base_url() -> str:
    configured = current_app.config["ISSUER_BASE_URL"]
    return configured if configured else request.host_url.rstrip("/")


def realm_issuer(realm_name: str) -> str:
    return f"{base_url()}/realms/{realm_name}"
