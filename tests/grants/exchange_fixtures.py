"""What the token exchange's rule tests and explain's tests share: the token endpoint, the
audience, and the app's backend (an ACL template on its users' paths, a backend_assertion
connection trusting its key).

A test module takes the fixture as ``backend = exchange_fixtures.backend``."""

from __future__ import annotations

import pytest

from tests.factories import AppBackend, make_backend

TOKEN_URL = "/realms/default/token"
AUDIENCE = "chat-api"


@pytest.fixture
def backend(app):
    make_backend(app, acl_template=[{"path": "/v1/users/{user_id}/**", "methods": ["GET"]}])
    return AppBackend(app)
