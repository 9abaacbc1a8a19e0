"""Signing key life cycle: next → active → retired → removed, encryption at rest, races."""

from __future__ import annotations

import logging
import threading

import pytest
from sqlalchemy import select, text

from authserver.errors import Conflict, InvalidInput
from authserver.extensions import db
from authserver.models import SigningKey
from authserver.registry.realms import get_realm
from authserver.state import app_state


def states(app) -> dict[str, str]:
    with app.app_context():
        realm = get_realm("default")
        app_state().keys.maintain(realm)
        return {k.kid: k.state for k in app_state().keys.list_keys(realm)}


def rotate(app, alg=None):
    with app.app_context():
        return app_state().keys.rotate(get_realm("default"), alg).kid


def signing_kid(app) -> str:
    with app.app_context():
        return app_state().keys.signing_key("default").kid


def test_new_realm_has_one_active_es256_key(app):
    with app.app_context():
        (key,) = app_state().keys.list_keys(get_realm("default"))
        assert (key.state, key.alg) == ("active", "ES256")
        assert len(key.kid) == 43  # base64url SHA-256 thumbprint (RFC 7638)


def test_rotation_prepublishes_then_promotes_then_removes(app, clock):
    old = signing_kid(app)
    new = rotate(app)
    assert states(app) == {old: "active", new: "next"}
    clock.advance(app.config["KEY_PREPUBLICATION_SECONDS"] - 1)
    assert signing_kid(app) == old  # still pre-publishing
    clock.advance(1)
    assert signing_kid(app) == new
    assert states(app) == {old: "retired", new: "active"}
    clock.advance(app.config["MAX_TOKEN_LIFETIME"] + app.config["CLOCK_SKEW_SECONDS"] - 1)
    assert old in states(app)  # tokens it signed may still be alive
    clock.advance(1)
    assert states(app) == {new: "active"}


@pytest.mark.parametrize("alg", ["RS256", "EdDSA"])
def test_rotate_to_other_algorithms(app, clock, alg):
    new = rotate(app, alg)
    clock.advance(app.config["KEY_PREPUBLICATION_SECONDS"])
    with app.app_context():
        active = app_state().keys.signing_key("default")
    assert (active.kid, active.alg) == (new, alg)


def test_unknown_algorithm_is_refused(app):
    with pytest.raises(InvalidInput, match="HS256"):
        rotate(app, "HS256")


def test_second_rotation_while_one_is_pending_is_refused(app):
    rotate(app)
    with pytest.raises(Conflict, match="already pending"):
        rotate(app)


def test_automatic_rotation_by_age(make_app, clock):
    from authserver.registry.realms import create_realm

    app = make_app(KEY_ROTATION_INTERVAL=86400)
    with app.app_context():
        create_realm("default")
    first = signing_kid(app)
    clock.advance(86400)
    with app.app_context():
        app_state().keys.invalidate()
        app_state().keys.maintain(get_realm("default"))
    assert sorted(states(app).values()) == ["active", "next"]
    clock.advance(app.config["KEY_PREPUBLICATION_SECONDS"])
    assert signing_kid(app) != first


def test_concurrent_rotations_in_two_processes_leave_one_next_and_one_active(make_app, clock):
    """Two apps on one database stand for two processes racing on the same rotation."""
    from authserver.registry.realms import create_realm

    first, second = make_app(), make_app()
    with first.app_context():
        create_realm("default")
    barrier, outcomes = threading.Barrier(2), []

    def race(app):
        barrier.wait()
        try:
            outcomes.append(rotate(app))
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=race, args=(a,)) for a in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("conflict") == 1
    clock.advance(first.config["KEY_PREPUBLICATION_SECONDS"])
    kids = {signing_kid(first), signing_kid(second)}  # both promote, concurrently safe
    assert len(kids) == 1
    assert sorted(states(first).values()) == ["active", "retired"]


def test_database_constraint_forbids_two_active_keys(app):
    with app.app_context():
        realm = get_realm("default")
        app_state().keys.create_active_key(realm)
        with pytest.raises(Exception, match="(?i)unique|duplicate"):
            db.session.commit()
        db.session.rollback()


def test_private_keys_are_encrypted_at_rest(app):
    rotate(app, "RS256")
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM signing_keys")).mappings().all()
    for row in rows:
        dumped = " ".join(str(v) for v in row.values())
        assert "PRIVATE KEY" not in dumped
        sealed = bytes(row["private_key_sealed"])
        assert b"PRIVATE KEY" not in sealed and b'"d"' not in sealed
        assert '"d"' not in row["public_jwk"]


def test_sealed_key_is_bound_to_its_kid(app):
    from authserver.crypto import DecryptionError

    with app.app_context():
        key = db.session.scalar(select(SigningKey))
        box = app_state().box
        with pytest.raises(DecryptionError):
            box.open(key.private_key_sealed, context="signing-key:another-kid")


def test_no_private_material_in_logs(app, clock, caplog):
    caplog.set_level(logging.DEBUG)
    rotate(app, "EdDSA")
    clock.advance(app.config["KEY_PREPUBLICATION_SECONDS"])
    signing_kid(app)
    app.test_client().get("/realms/default/jwks")
    assert "PRIVATE" not in caplog.text
    assert TEST_SECRET_FRAGMENT not in caplog.text


TEST_SECRET_FRAGMENT = "test-secret-key-"
