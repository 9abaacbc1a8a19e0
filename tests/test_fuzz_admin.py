"""Property-based fuzzing of the admin API against its own OpenAPI document (schemathesis).

Every operation of ``/admin/openapi.json`` is driven in-process over WSGI, with an admin
token, by schema-valid and schema-violating requests whose path parameters name seeded
objects (or are made up). Every answer must be documented: never a 5xx; a documented
status code, media type, headers and body; and a request the document calls invalid is
refused. Bounded and derandomized, so CI runs the same examples every time.
"""

from __future__ import annotations

import itertools
import shutil

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from authserver import create_app
from authserver.admin.openapi import PARAMETERS, PATHS
from authserver.clock import FrozenClock
from authserver.events import subscriptions
from authserver.events.runtime import webhook_runtime
from authserver.extensions import db
from authserver.models import User
from authserver.registry.realms import create_realm, get_realm
from tests.cli_helpers import admin_token, bearer
from tests.conftest import START_TIME, base_config
from tests.factories import make_backend, make_client, make_idp

#: Examples per operation, by how much input it reads: a body (create, update), only an
#: optional body or a query, or only the path (which object it acts on).
BODY_EXAMPLES, SMALL_INPUT_EXAMPLES, PATH_ONLY_EXAMPLES = 50, 25, 12
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection]
FUZZ = settings(deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much, HealthCheck.data_too_large])
OPERATIONS = [(path, method) for path, operations in PATHS.items() for method in operations]
GENERATED = None  # a path parameter left to schemathesis: whatever string it makes up
PUBLIC_ADDRESS = "93.184.216.34"  # what every webhook host resolves to here: no DNS lookups


def offline_webhooks(app) -> None:
    webhook_runtime(app).sender.resolve = lambda host, port: [PUBLIC_ADDRESS]


def seed(app) -> dict[str, list[str | None]]:
    """Something behind every path parameter; returns the values to draw each one from. The
    admin client is left out, so that no example disables the token under test."""
    offline_webhooks(app)
    make_backend(app)
    make_backend(app, audience="https://chat.example/api", scopes="read", default_scopes="read")
    make_backend(app, audience="matrix-hs", scopes="chat:read", default_scopes="chat:read", profile="matrix",
                 credential={"server_name": "matrix.example"})
    make_client(app, client_id="web-app", name="web", audiences=["chat-api"], scopes="chat:read")
    make_client(app, client_id="spa", name="spa", auth_method="none", audiences=["chat-api"], allow_anonymous=True)
    make_client(app, client_id="keyed", name="keyed", auth_method="private_key_jwt",
                jwks_uri="https://app.example/jwks.json")
    make_idp(app, name="corp", type="oidc", config={"issuer": "https://idp.example", "client_ids": ["web"]})
    make_idp(app, name="app", type="backend_assertion", client_id="web-app")
    with app.app_context():
        realm = get_realm("default")
        db.session.add_all([
            User(realm_id=realm.id, uid="ivy-000000000000000000000a", user_id="ivy", verified=True, name="Ivy",
                 created_at=1),
            User(realm_id=realm.id, uid="anon-0000000000000000000a", unverified={"name": "x"}, created_at=1),
            User(realm_id=realm.id, uid="merged-000000000000000000a", state="merged",
                 merged_into="ivy-000000000000000000000a", created_at=1)])
        db.session.commit()
        hook = subscriptions.create_subscription(realm, {"url": "https://hooks.example/in"}, "test").subscription
        pending = subscriptions.send_test(realm, hook.public_id, "test")
        done = subscriptions.send_test(realm, hook.public_id, "test")
        done.state = "delivered"
        db.session.commit()
        webhook, deliveries, event = hook.public_id, [pending.public_id, done.public_id], done.event.public_id
    return {"realm": ["default", "default", "default", "no-such-realm"],
            "client_id": ["web-app", "spa", "keyed", GENERATED],
            "audience": ["chat-api", "https://chat.example/api", "matrix-hs", GENERATED],
            "name": ["corp", "app", GENERATED],
            "user": ["ivy", "anon-0000000000000000000a", "merged-000000000000000000a", GENERATED],
            "subscription_id": [webhook, webhook, GENERATED],
            "delivery_id": [*deliveries, GENERATED],
            "event_id": [event, GENERATED]}


def seeded_target(app) -> tuple[str, dict, schemathesis.BaseSchema]:
    """Seed ``app``'s realm ``default``; its admin token, the known values and the schema."""
    token = admin_token(app.test_cli_runner(), app.test_client())
    known = seed(app)
    schema = schemathesis.openapi.from_wsgi("/admin/openapi.json", app)
    schema.config.generation.update(with_security_parameters=False)  # the admin token is sent as is
    # A body past the server's size cap is refused before it is read: 413 is a refusal too.
    rejection = schema.config.checks.negative_data_rejection
    rejection.expected_statuses = [*rejection.expected_statuses, "413"]
    return token, known, schema


@pytest.fixture(scope="module")
def seeded_sqlite(database_template, tmp_path_factory):
    """On SQLite, seed once and copy the file for every test (the token stays valid: the keys
    and the frozen clock are the same). None on PostgreSQL, where each test seeds its own."""
    if database_template["kind"] != "sqlite":
        yield None
        return
    path = tmp_path_factory.mktemp("fuzz_admin") / "seeded.db"
    shutil.copy(database_template["path"], path)
    app = create_app(base_config(f"sqlite:///{path}", CLOCK=FrozenClock(START_TIME)))
    with app.app_context():
        create_realm("default")
    token, known, schema = seeded_target(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    yield path, token, known, schema


@pytest.fixture
def target(seeded_sqlite, make_app, tmp_path):
    """An app on a seeded database, with its admin token, known values and the schema."""
    if seeded_sqlite is None:
        app = make_app()
        with app.app_context():
            create_realm("default")
        return (app, *seeded_target(app))
    path, token, known, schema = seeded_sqlite
    shutil.copy(path, tmp_path / "seeded.db")
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'seeded.db'}")
    offline_webhooks(app)
    return app, token, known, schema


def examples(path: str, method: str) -> int:
    spec = PATHS[path][method]
    if spec.get("requestBody", {}).get("required"):
        return BODY_EXAMPLES
    queried = any(PARAMETERS[ref["$ref"].rsplit("/", 1)[1]]["in"] == "query" for ref in spec.get("parameters", []))
    return SMALL_INPUT_EXAMPLES if "requestBody" in spec or queried else PATH_ONLY_EXAMPLES


def requests(operation, path: str, method: str, known: dict[str, list[str | None]]):
    """Valid and (where there is input to violate) invalid requests, over the known objects:
    one strategy per combination of path parameters and mode, each built once."""
    names = [ref["$ref"].rsplit("/", 1)[1] for ref in PATHS[path][method].get("parameters", [])]
    names = [n for n in names if n in known]
    has_input = examples(path, method) != PATH_ONLY_EXAMPLES
    modes = [GenerationMode.POSITIVE, *([GenerationMode.NEGATIVE] if has_input else [])]
    built: dict[tuple, st.SearchStrategy] = {}
    for values, mode in itertools.product(itertools.product(*(known[n] for n in names)), modes):
        if (values, mode) not in built:
            built[values, mode] = operation.as_strategy(generation_mode=mode, path_parameters={
                n: v for n, v in zip(names, values, strict=True) if v is not GENERATED})
    return st.one_of(*(built[values, mode] for values, mode in
                       itertools.product(itertools.product(*(known[n] for n in names)), modes)))


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS])
def test_every_answer_is_documented(target, path, method):
    app, token, known, schema = target
    operation = schema[path][method.upper()]

    @settings(FUZZ, max_examples=examples(path, method))
    @given(case=requests(operation, path, method, known))
    def fuzz(case):
        case.call_and_validate(app=app, headers=bearer(token), checks=CHECKS)

    fuzz()
