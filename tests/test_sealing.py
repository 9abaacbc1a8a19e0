"""The database seal (authserver/sealing.py): the database names the SECRET_KEY that seals it,
a host with another key refuses to start, and SECRET_KEY itself can be rotated."""

from __future__ import annotations

import uuid

import jwt as pyjwt
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import OctKey
from sqlalchemy import delete, text

from authserver.config import ConfigError
from authserver.crypto import DecryptionError, SecretBox, key_fingerprint
from authserver.events import subscriptions
from authserver.extensions import db
from authserver.models import SigningKey, WebhookSubscription
from authserver.models.seal import DatabaseSeal
from authserver.plugin_api import TOKEN_TYPE_SESSION
from authserver.registry import registration
from authserver.registry.realms import create_realm, get_realm
from authserver.sealing import SEALED, SealMismatch
from tests.cli_helpers import cli, cli_error
from tests.conftest import TEST_SECRET
from tests.factories import TOKEN_EXCHANGE, AppBackend, basic_auth, make_backend, make_client
from tests.plugins.profiles.helpers import STREAM_SECRET, cases

OLD, NEW, OTHER = TEST_SECRET, "new-secret-key-" + "n" * 40, "another-hosts-key-" + "o" * 40
PRIVATE_WEBHOOKS = {"WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True}
STREAM_CREDENTIAL = cases()["stream"].credential


def seal_row(app) -> DatabaseSeal:
    with app.app_context():
        row = db.session.get(DatabaseSeal, 1)
        db.session.expunge_all()
        return row


def test_every_sealed_column_is_resealed_by_a_rotation():
    """A new ``*_sealed`` column must join ``sealing.SEALED``, or a rotation would strand it."""
    sealed = {(t.name, c.name) for t in db.metadata.sorted_tables for c in t.columns if c.name.endswith("_sealed")}
    assert sealed - {("database_seal", "hashing_key_sealed")} == {
        (s.model.__tablename__, s.column) for s in SEALED}


def test_the_first_start_records_the_keys_fingerprint_never_the_key(app):
    row = seal_row(app)
    assert row.key_fingerprint == key_fingerprint(TEST_SECRET) != TEST_SECRET
    with app.app_context():
        dump = "\n".join(str(tuple(r)) for r in db.session.execute(text("SELECT * FROM database_seal")))
    assert TEST_SECRET not in dump and key_fingerprint(TEST_SECRET) in dump


def test_an_app_with_another_key_refuses_to_start_naming_where_to_copy_it(app, make_app):
    with pytest.raises(ConfigError) as refused:
        make_app(SECRET_KEY=OTHER)
    message = str(refused.value)
    assert refused.value.key == "SECRET_KEY" and "\n" not in message
    assert key_fingerprint(TEST_SECRET) in message and key_fingerprint(OTHER) in message
    assert "copy SECRET_KEY from" in message and "config.py" in message
    assert OTHER not in message and TEST_SECRET not in message
    assert seal_row(app).key_fingerprint == key_fingerprint(TEST_SECRET)  # nothing was changed


def test_an_unsealed_database_is_not_claimed_by_a_key_that_does_not_open_it(app, make_app):
    with app.app_context():
        db.session.execute(delete(DatabaseSeal))  # as before migration 0008
        db.session.commit()
    with pytest.raises(SealMismatch, match="signing keys stored in this database do not open"):
        make_app(SECRET_KEY=OTHER)
    assert seal_row(app) is None
    make_app()  # the key that sealed them records itself
    assert seal_row(app).key_fingerprint == key_fingerprint(TEST_SECRET)


def test_readyz_names_the_reason_when_the_database_is_resealed_under_another_key(app, make_app):
    assert app.test_client().get("/readyz").status_code == 200
    rotated = make_app(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[TEST_SECRET])
    cli(rotated.test_cli_runner(), "secrets", "reseal")
    ready = app.test_client().get("/readyz")  # this host holds only the old key
    assert ready.status_code == 503
    assert ready.get_json()["reason"].startswith("SECRET_KEY does not unseal this database")
    assert key_fingerprint(NEW) in ready.get_json()["reason"]


def test_reseal_refuses_a_value_no_key_opens_and_changes_nothing(app, make_app):
    with app.app_context():
        realm = get_realm("default")
        db.session.add(SigningKey(realm_id=realm.id, kid="foreign", alg="ES256", state="retired",
                                  public_jwk="{}", created_at=1, activates_at=1, remove_after=2 ** 40,
                                  private_key_sealed=SecretBox(OTHER).seal(b"x", "signing-key:foreign")))
        db.session.commit()
    rotated = make_app(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[TEST_SECRET])
    line = cli_error(rotated.test_cli_runner(), "secrets", "reseal")
    assert "signing key foreign opens with neither SECRET_KEY nor a fallback" in line
    assert seal_row(app).key_fingerprint == key_fingerprint(TEST_SECRET)


# --- rotating SECRET_KEY, with every kind of stored secret -------------------------------


class World:
    """One of everything that lives sealed or hashed in the database, made under the old key."""

    def __init__(self, app, clock):
        self.clock = clock
        make_backend(app)
        make_backend(app, audience="stream-chat", profile="stream", credential=STREAM_CREDENTIAL)
        self.backend = AppBackend(app, audiences=("chat-api", "stream-chat"), shared_secret=True)
        self.checker = make_client(app, client_id="chat-backend", name="checker", grant_types=["client_credentials"],
                                   auth_method="client_secret_basic", serves=["chat-api"])
        make_client(app, client_id="web", name="web", auth_method="none", allow_anonymous=True,
                    grant_types=[TOKEN_EXCHANGE], audiences=["chat-api"], scopes="chat:read", idps=["app"])
        with app.app_context():
            realm = get_realm("default")
            self.webhook = subscriptions.create_subscription(realm, {"url": "http://127.0.0.1:9/h"}, "test")
            self.webhook_id, self.webhook_secret = self.webhook.subscription.public_id, self.webhook.secret
            subscriptions.rotate_secret(realm, self.webhook_id, "test")  # a previous secret, sealed too
            self.initial = registration.create_initial_token(realm, 600, "test")["initial_access_token"]
        client = app.test_client()
        self.session = client.post("/realms/default/sessions", json={"client_id": "web", "audience": "chat-api"})
        assert self.session.status_code == 201, self.session.get_json()
        self.token = self.exchange(client)
        self.jwks = client.get("/realms/default/jwks").get_json()

    def exchange(self, client, audience="chat-api", assertion=None) -> str:
        form = self.backend.exchange_form(assertion or self.backend.assertion(now=self.clock()), audience=audience)
        response = client.post("/realms/default/token", data=form)
        assert response.status_code == 200, response.get_json()
        return response.get_json()["access_token"]

    def check_everything_works(self, app) -> None:
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        assert client.get("/realms/default/jwks").get_json() == self.jwks
        checker = basic_auth("chat-backend", self.checker["client_secret"])  # a hash made under the old key
        for token in (self.token, self.exchange(client)):  # signed before, and now: the signing key opens
            answer = client.post("/realms/default/introspect", data={"token": token}, headers=checker)
            assert answer.get_json()["active"] is True, answer.get_json()
        hs256 = jose_jwt.encode({"alg": "HS256"}, self._claims(), OctKey.import_key(
            self.backend.idp["shared_secret"].encode()), algorithms=["HS256"])
        self.exchange(client, assertion=hs256)  # the IdP's shared secret opens
        stream = self.exchange(client, audience="stream-chat")  # the vendor credential opens
        frozen = {"verify_iat": False, "verify_exp": False}  # the tests' clock is in 2027
        assert pyjwt.decode(stream, STREAM_SECRET, algorithms=["HS256"], options=frozen)["user_id"] == "user-1"
        again = client.post("/realms/default/token", data={
            "grant_type": TOKEN_EXCHANGE, "client_id": "web", "audience": "chat-api",
            "subject_token": self.session.get_json()["session_token"], "subject_token_type": TOKEN_TYPE_SESSION})
        assert again.status_code == 200, again.get_json()  # a session token hashed under the old key
        registered = client.post("/realms/default/register", json={"client_name": "late"},
                                 headers={"Authorization": f"Bearer {self.initial}"})
        assert registered.status_code == 201, registered.get_json()  # an initial token hashed so too
        with app.app_context():
            row = db.session.query(WebhookSubscription).filter_by(public_id=self.webhook_id).one()
            assert self.webhook_secret in subscriptions.signing_secrets(row, int(self.clock()))

    def _claims(self) -> dict:
        now = int(self.clock())
        return {"iss": self.backend.client_id, "sub": "user-1", "aud": "http://auth.test/realms/default",
                "iat": now, "exp": now + 120, "jti": uuid.uuid4().hex}


def test_secret_key_rotation_keeps_every_token_secret_and_credential(make_app, clock):
    old = make_app(**PRIVATE_WEBHOOKS)
    with old.app_context():
        create_realm("default")
    world = World(old, clock)

    # 1. Every host gets the new key, the old one as a fallback: both kinds of host work side by side,
    #    and what they seal stays under the key the database names (the old one).
    rolled = make_app(SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD], **PRIVATE_WEBHOOKS)
    with rolled.app_context():
        late = subscriptions.create_subscription(get_realm("default"), {"url": "http://127.0.0.1:9/l"}, "test")
        sealed = db.session.query(WebhookSubscription).filter_by(public_id=late.subscription.public_id).one()
        assert SecretBox(OLD).open(sealed.secret_sealed, f"webhook-secret:{sealed.public_id}")
    world.check_everything_works(rolled)
    world.check_everything_works(old)
    status = cli(rolled.test_cli_runner(), "secrets", "status")
    assert status["database_key"] == key_fingerprint(OLD) and status["can_drop_fallbacks"] is False

    # 2. One host re-seals everything under the new key.
    report = cli(rolled.test_cli_runner(), "secrets", "reseal")
    assert report["database_key"] == key_fingerprint(NEW) and report["previous_key"] == key_fingerprint(OLD)
    assert report["resealed"] == {"signing key": 1, "IdP secret": 1, "backend credential": 1, "webhook secret": 3}
    status = cli(rolled.test_cli_runner(), "secrets", "status")
    assert status["can_drop_fallbacks"] is True and status["values_by_key"] == {key_fingerprint(NEW): 6}
    assert cli(rolled.test_cli_runner(), "secrets", "reseal")["resealed"] == {}  # nothing left to do

    # 3. The fallback goes: only the new key. A host still holding only the old one refuses to start.
    new = make_app(SECRET_KEY=NEW, **PRIVATE_WEBHOOKS)
    world.check_everything_works(new)
    with pytest.raises(SealMismatch):
        make_app(SECRET_KEY=OLD)
    with new.app_context():
        for row in db.session.query(SigningKey):
            with pytest.raises(DecryptionError):
                SecretBox(OLD).open(row.private_key_sealed, f"signing-key:{row.kid}")

