"""Clients of a realm (authserver.registry.clients): life-cycle rules."""

from __future__ import annotations

import pytest

from authserver.errors import Conflict
from authserver.registry import clients
from authserver.registry.realms import get_realm
from tests.factories import AppBackend, make_backend


def test_a_client_that_signs_an_idps_assertions_cannot_be_deleted(app):
    """Deleting it would leave the connection pointing at a client that no longer exists."""
    make_backend(app)
    AppBackend(app)
    with app.app_context(), pytest.raises(Conflict):
        clients.delete_client(get_realm("default"), "app-backend", "test")
