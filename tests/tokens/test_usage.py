"""Monthly active users: each user who gets a token counts once per realm and month, by
client and IdP, without a database write on every exchange (authserver.tokens.usage)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from authserver.errors import InvalidInput
from authserver.extensions import db
from authserver.identity.users import delete_user
from authserver.models import MonthlyUsage, User
from authserver.registry.realms import get_realm
from authserver.tokens import usage
from tests.factories import AppBackend, make_backend, make_client

TOKEN_URL = "/realms/default/token"


@pytest.fixture
def backend(app):
    make_backend(app)
    return AppBackend(app)


def exchange(client, backend, clock, sub="alice", **extra):
    response = client.post(TOKEN_URL, data=backend.exchange_form(backend.assertion(sub, now=clock()),
                                                                 audience="chat-api", **extra))
    assert response.status_code == 200, response.get_json()


def rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(MonthlyUsage))


def report(app, month=None) -> dict:
    with app.app_context():
        return usage.report(get_realm("default"), month, app.extensions["authserver"].clock())


def test_five_exchanges_in_a_month_count_once_with_one_row(app, client, backend, clock):
    exchange(client, backend, clock)
    assert rows(app) == 1
    for _ in range(4):
        exchange(client, backend, clock)
    assert rows(app) == 1
    result = report(app)
    assert result["month"] == "2027-01" and result["active_users"] == 1
    assert result["identified_users"] == 1 and result["anonymous_users"] == 0
    assert result["by_client_and_idp"] == [{"client_id": "app-backend", "idp": "app",
                                            "anonymous": False, "users": 1}]


def test_repeat_exchanges_do_not_write(app, client, backend, clock, monkeypatch):
    exchange(client, backend, clock)
    writes = []
    monkeypatch.setattr(usage, "_insert", lambda dialect: writes.append(dialect) or pytest.fail("wrote"))
    exchange(client, backend, clock)
    assert writes == []


def test_counts_by_client_and_idp(app, client, backend, clock):
    second = AppBackend(app, name="ops-backend", idp_name="ops", user_id_claim="{idp}:{sub}")
    exchange(client, backend, clock, "alice")
    exchange(client, backend, clock, "bob")
    exchange(client, second, clock, "alice")  # another IdP: another user, another row
    result = report(app)
    assert result["active_users"] == 3
    assert result["by_client_and_idp"] == [
        {"client_id": "app-backend", "idp": "app", "anonymous": False, "users": 2},
        {"client_id": "ops-backend", "idp": "ops", "anonymous": False, "users": 1}]


def test_one_user_through_two_clients_is_one_active_user(app, client, backend, clock):
    make_client(app, client_id="chat-web", auth_method="none", audiences=["chat-api"],
                scopes="chat:read", idps=["app"])
    exchange(client, backend, clock, "alice")
    form = {**backend.exchange_form(backend.assertion("alice", now=clock()), audience="chat-api"),
            "client_id": "chat-web"}
    del form["client_secret"]
    assert client.post(TOKEN_URL, data=form).status_code == 200
    result = report(app)
    assert result["active_users"] == 1 and len(result["by_client_and_idp"]) == 2


def test_anonymous_and_identified_are_apart(app, client, backend, clock):
    from authserver.models import User

    exchange(client, backend, clock, "alice")
    with app.app_context():
        realm = get_realm("default")
        anonymous = User(realm_id=realm.id, uid="anon0000000000000000000a", user_id=None, verified=False,
                         workspaces=[], state="active", created_at=int(clock()))
        db.session.add(anonymous)
        db.session.commit()
        state = app.extensions["authserver"]
        usage.record(state.usage, realm, usage.month_of(clock()), anonymous, "chat-web", "-", anonymous=True)
        db.session.commit()
        result = usage.report(realm, None, clock())
    assert (result["active_users"], result["identified_users"], result["anonymous_users"]) == (2, 1, 1)


def test_a_new_month_counts_again(app, client, backend, clock):
    exchange(client, backend, clock)
    clock.advance(31 * 86400)
    exchange(client, backend, clock)
    exchange(client, backend, clock)
    assert rows(app) == 2
    assert report(app)["month"] == "2027-02"
    assert report(app)["active_users"] == 1
    assert report(app, "2027-01")["active_users"] == 1
    assert report(app, "2026-12")["active_users"] == 0


def test_monthly_totals_are_the_reports_active_users(app, client, backend, clock):
    """The console's twelve-month trend: one query, the same figure as each month's report,
    an erased user still counted, a month without tokens zero."""
    exchange(client, backend, clock, sub="alice")
    clock.advance(31 * 86400)
    for sub in ("alice", "bob", "carol"):
        exchange(client, backend, clock, sub=sub)
    with app.app_context():
        realm = get_realm("default")
        bob = db.session.scalar(select(User.uid).where(User.realm_id == realm.id, User.user_id.like("%bob")))
        delete_user(realm, bob, "test")
        months = usage.months_before("2027-02", 3)
        totals = usage.monthly_totals(realm, months)
    assert months == ["2026-12", "2027-01", "2027-02"]
    assert totals == {month: report(app, month)["active_users"] for month in months} == {
        "2026-12": 0, "2027-01": 1, "2027-02": 3}


def test_months_before_crosses_the_year():
    assert usage.months_before("2027-02", 4) == ["2026-11", "2026-12", "2027-01", "2027-02"]


def test_each_app_counts_for_its_own_database(make_app, clock):
    """The "already counted" memory is per app: another app (another database) counts anew."""
    from authserver.registry.realms import create_realm

    for _ in range(2):
        app = make_app(SQLALCHEMY_DATABASE_URI="sqlite://")
        with app.app_context():
            db.create_all()
            create_realm("default")
        make_backend(app)
        backend = AppBackend(app)
        exchange(app.test_client(), backend, clock)
        assert rows(app) == 1


@pytest.mark.parametrize("month", ["2027-1", "202701", "2027-13x", "last"])
def test_bad_month_is_refused(app, month):
    with pytest.raises(InvalidInput):
        report(app, month)
