"""HTTP endpoints. :func:`register_endpoints` is the one place they are attached."""

from __future__ import annotations

from flask import Flask

from authserver import admin
from authserver.endpoints import (
    discovery,
    errors,
    health,
    introspection,
    jwks,
    registration,
    revocation,
    sessions,
    token,
)


def register_endpoints(app: Flask) -> None:
    errors.register_error_handlers(app)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(discovery.blueprint)
    app.register_blueprint(jwks.blueprint)
    app.register_blueprint(token.blueprint)
    app.register_blueprint(introspection.blueprint)
    app.register_blueprint(revocation.blueprint)
    app.register_blueprint(sessions.blueprint)
    app.register_blueprint(registration.blueprint)
    app.register_blueprint(admin.create_blueprint())
