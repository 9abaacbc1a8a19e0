"""The token endpoint's cache of static rows: changes made here are seen at once, changes
made by another process within ROW_CACHE_SECONDS."""

from __future__ import annotations

from authserver.registry import clients
from authserver.registry.realms import create_realm, get_realm
from tests.factories import AppBackend, make_backend


def exchange(app, backend, clock):
    form = backend.exchange_form(backend.assertion(sub="ruth", now=clock()), audience="chat-api")
    return app.test_client().post("/realms/default/token", data=form)


def test_other_process_sees_a_disabled_client_within_the_cache_period(make_app, clock):
    admin_host, token_host = make_app(), make_app()
    with admin_host.app_context():
        create_realm("default")
    make_backend(admin_host)
    backend = AppBackend(admin_host)
    assert exchange(token_host, backend, clock).status_code == 200  # caches the client

    with admin_host.app_context():
        clients.set_disabled(get_realm("default"), backend.client_id, True, "test")
    assert exchange(admin_host, backend, clock).status_code == 401  # this process: at once
    clock.advance(token_host.config["ROW_CACHE_SECONDS"])
    refused = exchange(token_host, backend, clock)
    assert refused.status_code == 401 and refused.get_json()["error"] == "invalid_client"


def test_secret_rotation_is_seen_at_once_in_the_same_process(app, clock):
    make_backend(app)
    backend = AppBackend(app)
    assert exchange(app, backend, clock).status_code == 200
    with app.app_context():
        backend.secret = clients.rotate_secret(get_realm("default"), backend.client_id, "test").client_secret
    assert exchange(app, backend, clock).status_code == 200


def test_cache_can_be_turned_off(make_app, clock):
    app = make_app(ROW_CACHE_SECONDS=0)
    with app.app_context():
        create_realm("default")
    make_backend(app)
    backend = AppBackend(app)
    assert exchange(app, backend, clock).status_code == 200

