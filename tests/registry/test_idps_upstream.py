"""The browser login's upstream client on an IdP connection (authserver.registry.idps): what
is accepted, how the secret is kept (sealed per realm and connection, never shown, kept by
updates that do not name it), what the audit log and events record, and the re-seal."""

from __future__ import annotations

import json

import pytest
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey
from sqlalchemy import select

from authserver.crypto import DecryptionError, SecretBox
from authserver.errors import InvalidInput
from authserver.extensions import db
from authserver.models import AuditEvent, Event, IdentityProvider
from authserver.registry import idps
from authserver.registry.realms import create_realm, get_realm
from authserver.state import app_state
from tests.cli_helpers import cli
from tests.conftest import TEST_SECRET
from tests.factories import AppBackend, make_backend

ISSUER = "https://login.example.test"
SECRET = "upstream-secret-0123456789abcdef"
EC = ECKey.generate_key("P-256", private=True)


def jwk(key, **extra) -> str:
    return json.dumps({**key.as_dict(private=True), **extra})


def create(app, name="corp", realm="default", **upstream):
    with app.app_context():
        idp, _ = idps.create_idp(get_realm(realm), {
            "name": name, "type": "oidc", "config": {"issuer": ISSUER, "client_ids": ["chat-web", "authserver"]},
            **upstream}, "test")
        return idp.to_dict()


def update(app, name="corp", **data):
    with app.app_context():
        return idps.update_idp(get_realm("default"), name, data, "test")[0].to_dict()


def refused(app, message: str, **data) -> None:
    with app.app_context(), pytest.raises(InvalidInput, match=message):
        idps.update_idp(get_realm("default"), "corp", data, "test")


def stored(app, name="corp", realm="default") -> IdentityProvider:
    with app.app_context():
        row = db.session.scalars(select(IdentityProvider).where(IdentityProvider.name == name,
                                                                IdentityProvider.realm_id == get_realm(realm).id)).one()
        db.session.expunge(row)
        return row


def test_the_upstream_client_is_shown_but_never_its_secret(app):
    shown = create(app, upstream_client_id="authserver", upstream_auth_method="client_secret_post",
                   upstream_scope="openid email", upstream_secret=SECRET)
    assert {k: shown[k] for k in ("upstream_client_id", "upstream_auth_method", "upstream_scope",
                                  "upstream_secret_set")} == {
        "upstream_client_id": "authserver", "upstream_auth_method": "client_secret_post",
        "upstream_scope": "openid email", "upstream_secret_set": True}
    assert SECRET not in json.dumps(shown) and "upstream_secret" not in shown


def test_the_defaults_leave_the_upstream_client_unset(app):
    shown = create(app)
    assert (shown["upstream_client_id"], shown["upstream_auth_method"], shown["upstream_scope"],
            shown["upstream_secret_set"]) == (None, None, None, False)


def test_the_secret_is_sealed_to_its_realm_and_connection(app):
    create(app, upstream_client_id="authserver", upstream_secret=SECRET)
    create(app, "corp2", upstream_client_id="authserver", upstream_secret=SECRET)
    row, other = stored(app), stored(app, "corp2")
    assert SECRET.encode() not in row.upstream_secret_sealed
    assert row.upstream_secret_sealed != other.upstream_secret_sealed
    box = SecretBox(TEST_SECRET)
    assert box.open(row.upstream_secret_sealed, f"idp-upstream-secret:{row.realm_id}:corp").decode() == SECRET
    for context in (f"idp-upstream-secret:{row.realm_id}:corp2", f"idp-upstream-secret:{row.realm_id + 1}:corp",
                    f"idp-secret:{row.realm_id}:corp"):
        with pytest.raises(DecryptionError):
            box.open(row.upstream_secret_sealed, context)


def test_an_update_without_the_secret_keeps_it_and_null_removes_it(app):
    create(app, upstream_client_id="authserver", upstream_secret=SECRET)
    before = stored(app).upstream_secret_sealed
    assert update(app, upstream_scope="openid profile", trust="unverified")["upstream_secret_set"] is True
    assert stored(app).upstream_secret_sealed == before
    assert update(app, upstream_secret="a-new-secret-0123456789")["upstream_secret_set"] is True
    with app.app_context():
        row = stored(app)
        assert app_state().box.open(row.upstream_secret_sealed, f"idp-upstream-secret:{row.realm_id}:corp") == \
            b"a-new-secret-0123456789"
    cleared = update(app, upstream_secret=None)
    assert cleared["upstream_secret_set"] is False and stored(app).upstream_secret_sealed is None
    assert cleared["upstream_client_id"] == "authserver"


def test_null_resets_each_setting(app):
    create(app, upstream_client_id="authserver", upstream_auth_method="client_secret_post",
           upstream_scope="openid email")
    shown = update(app, upstream_client_id=None, upstream_auth_method=None, upstream_scope=None)
    assert (shown["upstream_client_id"], shown["upstream_auth_method"], shown["upstream_scope"]) == (None, None, None)


@pytest.mark.parametrize(("data", "message"), [
    ({"upstream_auth_method": "client_secret_jwt"}, "upstream_auth_method: must be one of"),
    ({"upstream_auth_method": "NONE"}, "upstream_auth_method: must be one of"),
    ({"upstream_client_id": "not-listed"}, "also list it among the connection's client ids"),
    ({"upstream_client_id": ""}, "upstream_client_id: must be a non-empty string"),
    ({"upstream_client_id": "x" * 256}, "upstream_client_id: must be a non-empty string"),
    ({"upstream_scope": "email profile"}, "upstream_scope: must include openid"),
    ({"upstream_scope": 'openid "quoted"'}, "not a valid scope token"),
    ({"upstream_secret": 42}, "upstream_secret: must be a string"),
    ({"upstream_secret": "x" * 16385}, "upstream_secret: must be a string"),
])
def test_bad_upstream_settings_are_refused_naming_the_field(app, data, message):
    create(app)
    refused(app, message, **data)
    assert stored(app).upstream_client_id is None  # nothing half-applied


@pytest.mark.parametrize(("secret", "message"), [
    ("not json", "needs a private JWK"),
    ('["a list"]', "needs a private JWK"),
    (json.dumps(EC.as_dict(private=False)), "holds no private key"),
    (json.dumps(OctKey.generate_key(256).as_dict()), "holds no private key"),
    (jwk(OKPKey.generate_key("X25519", private=True)), "OKP \\(Ed25519, Ed448\\) key is needed"),
    (jwk(EC, alg="RS256"), "alg must be one of ES256"),
    (jwk(EC, alg="none"), "alg must be one of ES256"),
    (jwk(EC, alg="HS256"), "alg must be one of"),
])
def test_a_private_key_jwt_key_must_be_a_private_signing_jwk(app, secret, message):
    create(app)
    refused(app, message, upstream_client_id="authserver", upstream_auth_method="private_key_jwt",
            upstream_secret=secret)


@pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")
def test_a_short_rsa_key_is_refused(app):
    from cryptography.hazmat.primitives.asymmetric import rsa

    create(app)
    short = RSAKey.import_key(rsa.generate_private_key(65537, 1024))
    refused(app, "at least 2048 bits", upstream_client_id="authserver", upstream_auth_method="private_key_jwt",
            upstream_secret=jwk(short))


@pytest.mark.parametrize("key", [EC, ECKey.generate_key("P-384", private=True), RSAKey.generate_key(2048, private=True),
                                 OKPKey.generate_key("Ed25519", private=True)])
def test_private_signing_keys_are_accepted(app, key):
    create(app)
    shown = update(app, upstream_client_id="authserver", upstream_auth_method="private_key_jwt",
                   upstream_secret=jwk(key, kid="k1"))
    assert shown["upstream_auth_method"] == "private_key_jwt" and shown["upstream_secret_set"] is True


def test_switching_to_private_key_jwt_checks_the_stored_secret(app):
    create(app, upstream_client_id="authserver", upstream_secret=SECRET)
    refused(app, "needs a private JWK", upstream_auth_method="private_key_jwt")


def test_a_connector_without_the_capability_refuses_every_upstream_setting(app):
    make_backend(app)
    AppBackend(app)
    for field, value in (("upstream_client_id", "x"), ("upstream_auth_method", "none"),
                         ("upstream_scope", "openid"), ("upstream_secret", SECRET)):
        with app.app_context(), pytest.raises(InvalidInput, match="cannot run a browser login"):
            idps.update_idp(get_realm("default"), "app", {field: value}, "test")


def test_audit_and_events_record_the_change_without_the_secret(app):
    create(app, upstream_client_id="authserver", upstream_secret=SECRET)
    update(app, upstream_scope="openid email")
    with app.app_context():
        audit = db.session.scalars(select(AuditEvent).where(AuditEvent.target_id == "corp")
                                   .order_by(AuditEvent.id)).all()
        assert [a.action for a in audit] == ["idp.create", "idp.update"]
        assert audit[0].after["upstream_secret_set"] is True and audit[1].before["upstream_scope"] is None
        assert audit[1].after["upstream_scope"] == "openid email"
        events = db.session.scalars(select(Event).order_by(Event.id)).all()
        assert [e.type for e in events][-2:] == ["idp.created", "idp.updated"]
        stored_rows = json.dumps([[a.before, a.after] for a in audit]) + json.dumps([e.data for e in events],
                                                                                    default=str)
        assert SECRET not in stored_rows


def test_reseal_reseals_the_upstream_secret(make_app):
    old = make_app()
    with old.app_context():
        create_realm("default")
    create(old, upstream_client_id="authserver", upstream_secret=SECRET)
    new_key = "new-secret-key-" + "n" * 40
    rolled = make_app(SECRET_KEY=new_key, SECRET_KEY_FALLBACKS=[TEST_SECRET])
    report = cli(rolled.test_cli_runner(), "secrets", "reseal")
    assert report["resealed"]["IdP upstream client secret"] == 1
    row = stored(rolled)
    assert SecretBox(new_key).open(row.upstream_secret_sealed, f"idp-upstream-secret:{row.realm_id}:corp") == \
        SECRET.encode()
    with pytest.raises(DecryptionError):
        SecretBox(TEST_SECRET).open(row.upstream_secret_sealed, f"idp-upstream-secret:{row.realm_id}:corp")
