"""What a token request writes: a returning user's exchange that tells nothing new commits
only its single-use ``jti`` claim (its own transaction); a first login commits the user, the
link, the ``user.created`` event and the usage row together; a login that changes the
profile still writes it."""

from __future__ import annotations

import pytest
from sqlalchemy import event, func, select

from authserver.extensions import db
from authserver.models import Event, User
from tests.factories import AppBackend, make_backend

TOKEN = "/realms/default/token"


@pytest.fixture
def backend(app):
    make_backend(app)
    return AppBackend(app)


@pytest.fixture
def writes(app):
    """The statements that write, and the commits, on every connection of the app's engine."""
    seen = {"writes": [], "commits": 0}

    def on_execute(_conn, _cursor, statement, *_):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen["writes"].append(statement.split("(")[0].strip())

    def on_commit(_conn):
        seen["commits"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "commit", on_commit)
    yield seen
    event.remove(engine, "before_cursor_execute", on_execute)
    event.remove(engine, "commit", on_commit)


def _exchange(app, backend, clock, **claims):
    form = backend.exchange_form(backend.assertion(sub="ruth", now=clock(), **claims), audience="chat-api")
    response = app.test_client().post(TOKEN, data=form)
    assert response.status_code == 200, response.get_json()
    return response


def test_a_returning_user_commits_only_the_single_use_claim(app, backend, clock, writes):
    _exchange(app, backend, clock)
    assert any(w.startswith("INSERT INTO users") for w in writes["writes"])
    assert any(w.startswith("INSERT INTO events") for w in writes["writes"])
    writes["writes"].clear()
    writes["commits"] = 0
    _exchange(app, backend, clock)
    assert len(writes["writes"]) == 1 and "replay" in writes["writes"][0], writes["writes"]
    assert writes["commits"] == 1


def test_a_login_that_changes_the_profile_is_written(app, backend, clock, writes):
    _exchange(app, backend, clock)
    _exchange(app, backend, clock, name="Ruth B.")
    with app.app_context():
        assert db.session.scalar(select(User.name)) == "Ruth B."
        types = db.session.scalars(select(Event.type).order_by(Event.id)).all()
        assert types[-2:] == ["user.created", "user.updated"]
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
