"""Subject mapping: ``(realm, idp, subject)`` → one stable chat user (authserver.identity.decision)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from authserver.extensions import db
from authserver.identity import users
from authserver.identity.decision import Login, ProvisioningRefused, decide_login
from authserver.models import IdentityLink, User
from authserver.plugin_api import Identity
from authserver.registry import idps
from authserver.registry.realms import create_realm, get_realm
from authserver.state import RealmContext, app_state


def decide(realm, idp, identity) -> User:
    ctx = RealmContext(realm=realm, issuer=f"http://auth.test/realms/{realm.name}", state=app_state())
    decision = decide_login(ctx, Login(idp=idp, identity=identity))
    db.session.commit()
    return decision.user


def resolve(idp_name: str, subject: str, custom=None, **claims) -> User:
    realm = get_realm("default")
    return decide(realm, idps.get_idp(realm, idp_name), Identity(subject=subject, claims=claims, custom=custom))


def connect(app, name: str, **data) -> None:
    data.setdefault("type", "oidc")
    if data["type"] == "oidc":
        data.setdefault("config", {"issuer": f"https://{name}.example", "client_ids": ["chat-web"]})
    with app.app_context():
        idps.create_idp(get_realm("default"), {"name": name, **data}, "test")


@pytest.fixture
def ctx(app):
    connect(app, "corp")
    with app.app_context():
        yield app


# --- user_id derivation ------------------------------------------------------------------


def test_default_rule_namespaces_the_subject_by_connection(ctx):
    user = resolve("corp", "alice")
    assert user.user_id == "corp:alice" and user.identified
    assert len(user.uid) == 24 and user.uid != user.user_id


def test_user_id_from_a_claim(app):
    connect(app, "mail", user_id_claim="email")
    with app.app_context():
        assert resolve("mail", "s-1", email="alice@example.test", email_verified=True).user_id == "alice@example.test"


def test_user_id_from_a_template(app):
    connect(app, "tmpl", user_id_claim="{preferred_username}@{idp}")
    with app.app_context():
        assert resolve("tmpl", "s-1", preferred_username="al").user_id == "al@tmpl"


@pytest.mark.parametrize("rule", ["email", "{email}", "x-{preferred_username}"])
def test_missing_claim_is_refused_and_creates_nothing(app, rule):
    connect(app, "strict", user_id_claim=rule)
    with app.app_context():
        with pytest.raises(ProvisioningRefused):
            resolve("strict", "s-1", name="No Mail")
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_same_subject_same_user_and_uid_is_immutable(ctx):
    first = resolve("corp", "alice", given_name="Alice")
    uid, user_id = first.uid, first.user_id
    again = resolve("corp", "alice", given_name="Alicia", email="a@example.test")
    assert (again.uid, again.user_id) == (uid, user_id)
    assert again.given_name == "Alicia"


def test_subject_match_is_case_exact(ctx):
    assert resolve("corp", "alice").uid != resolve("corp", "Alice").uid


def test_same_subject_at_another_connection_is_another_user(app, ctx):
    connect(app, "partner")
    assert resolve("corp", "alice").uid != resolve("partner", "alice").uid


# --- provisioning policies -----------------------------------------------------------------


def test_existing_only_refuses_unknown_users(app, ctx):
    connect(app, "legacy", provisioning="existing_only", user_id_claim="preferred_username")
    with pytest.raises(ProvisioningRefused):
        resolve("legacy", "x", preferred_username="nobody")


def test_existing_only_links_the_user_holding_the_user_id(app, ctx):
    connect(app, "mail", user_id_claim="email")
    connect(app, "legacy", provisioning="existing_only", user_id_claim="email")
    owner = resolve("mail", "m-1", email="alice@example.test", email_verified=True)
    assert resolve("legacy", "l-1", email="alice@example.test", email_verified=True).uid == owner.uid


def test_link_verified_email_links_only_a_verified_email(app, ctx):
    connect(app, "mail", user_id_claim="email")
    connect(app, "google", provisioning="link_verified_email")
    owner = resolve("mail", "m-1", email="alice@example.test", email_verified=True)
    linked = resolve("google", "g-1", email="alice@example.test", email_verified=True)
    assert linked.uid == owner.uid and linked.user_id == "alice@example.test"
    stranger = resolve("google", "g-2", email="alice@example.test", email_verified=False)
    assert stranger.uid != owner.uid and stranger.user_id == "google:g-2"


def test_link_verified_email_needs_a_trusted_connection(app):
    with pytest.raises(Exception, match="link_verified_email needs trust"):
        connect(app, "weak", provisioning="link_verified_email", trust="unverified")


def test_unverified_email_never_becomes_a_linkable_email(app, ctx):
    """A trusted IdP that says the email is *not* verified must not let that address be
    used later to link another login to this account (account takeover)."""
    connect(app, "google", provisioning="link_verified_email")
    squatter = resolve("corp", "mallory", email="victim@example.test", email_verified=False)
    assert squatter.email is None
    victim = resolve("google", "g-victim", email="victim@example.test", email_verified=True)
    assert victim.uid != squatter.uid


def test_user_id_is_never_reassigned(app, ctx):
    connect(app, "mail", user_id_claim="email")
    owner = resolve("mail", "m-1", email="alice@example.test", email_verified=True)
    with pytest.raises(ProvisioningRefused):
        resolve("mail", "m-2", email="alice@example.test", email_verified=True)
    users.set_user_disabled(get_realm("default"), owner.uid, True, "test")
    with pytest.raises(ProvisioningRefused):
        resolve("mail", "m-3", email="alice@example.test", email_verified=True)
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_user_ids_are_unique_per_realm_not_globally(app, ctx):
    create_realm("other")
    realm = get_realm("other")
    idp, _ = idps.create_idp(realm, {"name": "corp", "type": "oidc", "config": {
        "issuer": "https://corp.example", "client_ids": ["chat-web"]}}, "test")
    here = resolve("corp", "alice")
    there = decide(realm, idp, Identity(subject="alice"))
    assert here.user_id == there.user_id == "corp:alice" and here.uid != there.uid


# --- profile: verified vs non-verified ---------------------------------------------------


def test_trusted_idp_updates_the_verified_profile(ctx):
    user = resolve("corp", "alice", given_name="Alice", family_name="Example", name="Alice Example",
                   email="alice@example.test", email_verified=True, picture="https://p.example/a.png")
    assert (user.given_name, user.family_name, user.name) == ("Alice", "Example", "Alice Example")
    assert user.email == "alice@example.test" and user.verified is True and user.unverified is None
    user = resolve("corp", "alice", given_name="Ally", email="alice@example.test", email_verified=True)
    assert user.given_name == "Ally" and user.family_name == "Example"


def test_untrusted_idp_data_is_kept_apart(app):
    connect(app, "social", trust="unverified")
    with app.app_context():
        user = resolve("social", "s-1", given_name="Mallory", email="ceo@example.test", custom={"role": "admin"})
        assert user.verified is False and user.given_name is None and user.email is None
        assert user.custom is None
        assert user.unverified == {"given_name": "Mallory", "email": "ceo@example.test"}


def test_claim_mapping_names_profile_fields(app):
    connect(app, "mapped", claim_mapping={"given_name": "first_name"})
    with app.app_context():
        assert resolve("mapped", "s-1", first_name="Zoë").given_name == "Zoë"


def test_links_keep_last_claims_and_login_times(ctx, clock):
    resolve("corp", "alice", email="a@example.test")
    clock.advance(3600)
    resolve("corp", "alice", email="b@example.test")
    link = db.session.scalar(select(IdentityLink))
    assert link.last_claims == {"email": "b@example.test"}
    assert link.last_login_at - link.first_login_at == 3600


# --- concurrency ---------------------------------------------------------------------------


@pytest.mark.parametrize("rule", ["{idp}:{sub}", "email"])
def test_concurrent_first_logins_create_one_user(make_app, rule):
    """Two processes (two apps on one database) log the same new subject in at once."""
    first, second = make_app(), make_app()
    with first.app_context():
        create_realm("default")
        idps.create_idp(get_realm("default"), {"name": "corp", "type": "oidc", "user_id_claim": rule,
                                               "config": {"issuer": "https://corp.example",
                                                          "client_ids": ["chat-web"]}}, "test")
    for attempt in range(5):
        barrier, results, errors = threading.Barrier(2), [], []
        subject = f"new-{attempt}"

        def login(app, barrier=barrier, results=results, errors=errors, subject=subject):
            with app.app_context():
                barrier.wait()
                try:
                    results.append(resolve("corp", subject, email=f"{subject}@example.test",
                                           email_verified=True).uid)
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(repr(exc))

        threads = [threading.Thread(target=login, args=(a,)) for a in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert not errors and len(results) == 2 and results[0] == results[1], (errors, results)
    with first.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 5
        assert db.session.scalar(select(func.count()).select_from(IdentityLink)) == 5
