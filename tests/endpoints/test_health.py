"""Liveness and readiness."""

from __future__ import annotations

from sqlalchemy import delete, update

from authserver.crypto import key_fingerprint
from authserver.extensions import db
from authserver.models import SigningKey
from authserver.models.seal import DatabaseSeal
from tests.conftest import TEST_SECRET


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_ready_with_active_key(client):
    response = client.get("/readyz")
    assert response.status_code == 200


def test_readyz_fails_when_a_realm_has_no_active_key(app, client):
    with app.app_context():
        db.session.execute(delete(SigningKey))
        db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "default" in response.get_json()["reason"]


def test_readyz_fails_when_database_unreachable(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing-dir/none.db")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reason"] == "database unreachable"


def test_readyz_names_the_reason_when_this_key_cannot_unseal_the_database(app, client):
    with app.app_context():
        db.session.execute(update(DatabaseSeal).values(key_fingerprint="0123456789abcdef"))
        db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["reason"] == (
        "SECRET_KEY does not unseal this database (sealed by key 0123456789abcdef, this host holds "
        f"{key_fingerprint(TEST_SECRET)})")
