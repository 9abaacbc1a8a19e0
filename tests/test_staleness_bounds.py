"""Each documented staleness bound, seen by a second process (two apps on one database,
under the frozen clock; no test waits):

* a disabled user, a user's or a client's revocation cut-off: at once (the token path reads
  the user and the revocation state fresh, one round trip: authserver.tokens.reads);
* a disabled client or IdP connection: within ROW_CACHE_SECONDS (registry/row_cache.py;
  the process that made the change sees it at once);
* a rotated signing key: published by every process within KEY_CACHE_SECONDS, signing from
  its activation on, so every process verifies tokens signed with it.
"""

from __future__ import annotations

import pytest

from authserver.edge.jose_compact import parse_compact
from authserver.extensions import db
from authserver.identity.users import set_user_disabled
from authserver.registry import idps
from authserver.registry.realms import create_realm, get_realm
from authserver.state import app_state
from authserver.tokens.revocation import revoke_client_tokens, revoke_user_tokens
from tests.factories import AppBackend, basic_auth, make_backend, make_client

TOKEN = "/realms/default/token"


@pytest.fixture
def hosts(make_app):
    """(admin host, token host): the change is made on the first, the second serves tokens."""
    admin_host, token_host = make_app(), make_app()
    with admin_host.app_context():
        create_realm("default")
    make_backend(admin_host)
    return admin_host, token_host


@pytest.fixture
def backend(hosts):
    return AppBackend(hosts[0])


@pytest.fixture
def server(hosts):
    """A client that serves chat-api: it may introspect its tokens."""
    made = make_client(hosts[0], client_id="chat-server", auth_method="client_secret_basic", serves=["chat-api"])
    return basic_auth("chat-server", made["client_secret"])


def exchange(app, backend, clock, sub="ruth"):
    form = backend.exchange_form(backend.assertion(sub=sub, now=clock()), audience="chat-api")
    return app.test_client().post(TOKEN, data=form)


def introspect(app, server, token) -> bool:
    response = app.test_client().post("/realms/default/introspect", data={"token": token}, headers=server)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["active"]


def claims_of(token: str) -> dict:
    return parse_compact(token, 16 * 1024).payload


def uid_of(_app, token: str) -> str:
    return claims_of(token)["uid"]


def test_a_disabled_user_is_refused_by_every_process_at_once(hosts, backend, server, clock):
    admin_host, token_host = hosts
    issued = exchange(token_host, backend, clock)  # the token host has read the user, the rows are cached
    assert issued.status_code == 200
    token = issued.get_json()["access_token"]
    with admin_host.app_context():
        set_user_disabled(get_realm("default"), uid_of(admin_host, token), True, "test")
    refused = exchange(token_host, backend, clock)  # no time passes
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_grant"
    assert introspect(token_host, server, token) is False


def test_a_users_cut_off_reaches_every_process_at_once(hosts, backend, server, clock):
    admin_host, token_host = hosts
    token = exchange(token_host, backend, clock).get_json()["access_token"]
    assert introspect(token_host, server, token) is True
    with admin_host.app_context():
        revoke_user_tokens(get_realm("default"), uid_of(admin_host, token), "test")
    assert introspect(token_host, server, token) is False
    clock.advance(1)
    fresh = exchange(token_host, backend, clock).get_json()["access_token"]  # issued after the cut-off
    assert introspect(token_host, server, fresh) is True


def test_a_clients_cut_off_reaches_every_process_at_once(hosts, backend, server, clock):
    admin_host, token_host = hosts
    token = exchange(token_host, backend, clock).get_json()["access_token"]
    assert introspect(token_host, server, token) is True
    with admin_host.app_context():
        revoke_client_tokens(get_realm("default"), backend.client_id, "test")
    assert introspect(token_host, server, token) is False


def test_a_disabled_idp_connection_is_refused_within_the_row_cache_period(hosts, backend, clock):
    admin_host, token_host = hosts
    assert exchange(token_host, backend, clock).status_code == 200  # caches the connection
    with admin_host.app_context():
        idps.update_idp(get_realm("default"), "app", {"disabled": True}, "test")
    assert exchange(admin_host, backend, clock).status_code == 400  # the process that changed it: at once
    clock.advance(token_host.config["ROW_CACHE_SECONDS"])
    refused = exchange(token_host, backend, clock)
    assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_request"


def test_a_rotated_key_is_published_within_the_key_cache_period_and_signs_everywhere(hosts, backend, server,
                                                                                     clock):
    admin_host, token_host = hosts
    jwks = token_host.test_client().get("/realms/default/jwks").get_json()  # the token host caches its keys
    old_kids = {key["kid"] for key in jwks["keys"]}
    with admin_host.app_context():
        new_kid = app_state().keys.rotate(get_realm("default"), actor="test").kid
        db.session.remove()

    clock.advance(token_host.config["KEY_CACHE_SECONDS"])
    published = {key["kid"] for key in token_host.test_client().get("/realms/default/jwks").get_json()["keys"]}
    assert published == old_kids | {new_kid}  # published long before it signs (KEY_PREPUBLICATION_SECONDS)

    clock.advance(admin_host.config["KEY_PREPUBLICATION_SECONDS"])
    for signer, verifier in ((admin_host, token_host), (token_host, admin_host)):
        token = exchange(signer, backend, clock, sub=f"kid-{id(signer)}").get_json()["access_token"]
        with signer.app_context():
            assert _kid(token) == new_kid
        assert introspect(verifier, server, token) is True


def _kid(token: str) -> str:
    return parse_compact(token, 16 * 1024).header["kid"]
