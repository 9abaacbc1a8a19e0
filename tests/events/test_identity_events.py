"""The identity decision publishes what happened to users, in the transaction that did it:
one ``user.merged`` for an anonymous → identified merge (matching the tokens' ``uid``s), one
``user.identified`` for an assignment, ``user.created`` for first logins and anonymous
sessions, ``session.ended`` for the upgraded session — and nothing per returning exchange."""

from __future__ import annotations

import jwt as pyjwt
import pytest
from sqlalchemy import select

from authserver.extensions import db
from authserver.models.event import Event
from tests.factories import TOKEN_EXCHANGE, AppBackend, make_backend, make_client

TOKEN_URL = "/realms/default/token"
AUDIENCE = "chat-api"


@pytest.fixture
def setup(app):
    make_backend(app)
    backend = AppBackend(app)
    make_client(app, client_id="web", auth_method="none", audiences=[AUDIENCE], scopes="chat:read",
                allow_anonymous=True, grant_types=[TOKEN_EXCHANGE], idps=["app"])
    return backend


def events(app) -> list[Event]:
    """The user and session events so far (the setup's admin changes left out)."""
    with app.app_context():
        rows = list(db.session.scalars(select(Event).where(Event.type.like("user.%") | Event.type.like("session.%"))
                                       .order_by(Event.id)))
        db.session.expunge_all()
        return rows


def uid_of(token: str) -> str:
    return pyjwt.decode(token, options={"verify_signature": False})["uid"]


def upgrade(client, backend, clock, session_token: str, sub: str):
    return client.post(TOKEN_URL, data={
        "grant_type": TOKEN_EXCHANGE, "client_id": "web", "audience": AUDIENCE, "session_token": session_token,
        "subject_token": backend.assertion(sub=sub, now=clock()),
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt"}).get_json()


def test_a_merge_publishes_exactly_one_user_merged(app, client, setup, clock):
    backend = setup
    first = client.post(TOKEN_URL, data=backend.exchange_form(backend.assertion("bob", now=clock()),
                                                              audience=AUDIENCE)).get_json()
    anonymous = client.post("/realms/default/sessions", json={"client_id": "web", "audience": AUDIENCE}).get_json()
    before = len(events(app))
    merged = upgrade(client, backend, clock, anonymous["session_token"], "bob")
    assert merged["upgrade"]["outcome"] == "merged"
    new = events(app)[before:]
    merges = [e for e in new if e.type == "user.merged"]
    assert len(merges) == 1
    assert merges[0].data["surviving"]["_id"] == uid_of(first["access_token"]) == uid_of(merged["access_token"])
    assert merges[0].data["discarded"]["_id"] == uid_of(anonymous["access_token"]) == anonymous["_id"]
    assert [e.type for e in new if e.type.startswith("session.")] == ["session.ended"]


def test_an_assignment_publishes_user_identified(app, client, setup, clock):
    backend = setup
    anonymous = client.post("/realms/default/sessions", json={"client_id": "web", "audience": AUDIENCE}).get_json()
    assert [e.type for e in events(app)] == ["user.created", "session.created"]
    assigned = upgrade(client, backend, clock, anonymous["session_token"], "carol")
    assert assigned["upgrade"]["outcome"] == "assigned"
    identified = [e for e in events(app) if e.type == "user.identified"]
    assert len(identified) == 1 and identified[0].data["_id"] == anonymous["_id"]
    assert identified[0].data["user_id"] == "carol" and identified[0].data["previous"] == {"identified": False}


def test_returning_exchanges_publish_nothing(app, client, setup, clock):
    backend = setup
    client.post(TOKEN_URL, data=backend.exchange_form(backend.assertion("dora", now=clock()), audience=AUDIENCE))
    assert [e.type for e in events(app)] == ["user.created"]
    for _ in range(3):
        client.post(TOKEN_URL, data=backend.exchange_form(backend.assertion("dora", now=clock()), audience=AUDIENCE))
    assert [e.type for e in events(app)] == ["user.created"]


def test_a_refused_exchange_publishes_nothing(app, client, setup, clock):
    backend = setup
    response = client.post(TOKEN_URL, data=backend.exchange_form(backend.assertion("erin", now=clock()),
                                                                 audience=AUDIENCE, scope="not-a-scope"))
    assert response.status_code == 400
    assert events(app) == []
