"""The browser login's upstream leg (authserver/browser/upstream.py) against a real OpenID
Provider (npm ``oidc-provider``): :func:`start` builds the request, the test plays the browser
at the upstream (log in, consent), and :func:`finish` takes the answer. Every check of the
leg (state, sealing, expiry, ``iss``, nonce, PKCE, ``auth_time``) has a case that must be
refused, and each client authentication method is proven against the provider itself."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from urllib.parse import parse_qs, quote_plus, urlsplit

import jwt as pyjwt
import pytest
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import select

from authserver.browser import upstream as leg
from authserver.extensions import db
from authserver.models import IdentityProvider
from authserver.plugin_api import HttpResponse, UpstreamUnavailable
from authserver.registry import idps
from authserver.registry.clients import get_client
from authserver.registry.realms import create_realm, get_realm
from authserver.state import RealmContext, app_state
from tests.factories import make_backend, make_client
from tests.support.upstream_idp import UpstreamIdP

pytestmark = pytest.mark.integration
BASE = "https://auth.test"
ISSUER = f"{BASE}/realms/default"
CALLBACK = f"{ISSUER}/broker/corp/callback"
#: Characters that RFC 6749 §2.3.1 form-encoding changes: a Basic header without it fails.
SECRET = "s3cret +/:%&=-0123456789abcdefghijklmnopqrstuvwxyz"
EC_KEY = ECKey.generate_key("P-256", private=True)
RSA_KEY = RSAKey.generate_key(2048, private=True)
UPSTREAM_CLIENTS = ("authserver", "authserver-post", "authserver-pkjwt", "authserver-public")


def private_jwk(key, kid: str) -> str:
    return json.dumps({**key.as_dict(private=True), "kid": kid})


@pytest.fixture(scope="module")
def upstream():
    public = [{**EC_KEY.as_dict(private=False), "kid": "ec-1"}, {**RSA_KEY.as_dict(private=False), "kid": "rsa-1"}]
    clients = [
        {"client_id": "authserver", "client_secret": SECRET, "redirect_uris": [CALLBACK]},
        {"client_id": "authserver-post", "client_secret": SECRET, "token_endpoint_auth_method": "client_secret_post",
         "redirect_uris": [CALLBACK]},
        {"client_id": "authserver-pkjwt", "token_endpoint_auth_method": "private_key_jwt",
         "jwks": {"keys": public}, "redirect_uris": [CALLBACK]},
        {"client_id": "authserver-public", "token_endpoint_auth_method": "none", "redirect_uris": [CALLBACK]},
    ]
    try:
        with UpstreamIdP(clients=clients) as idp:
            yield idp
    except Exception as exc:  # node or the npm package missing: say so once
        if "npm ci" in str(exc) or "not found on PATH" in str(exc):
            pytest.skip(str(exc).splitlines()[0])
        raise


@pytest.fixture
def broker(make_app, clock, upstream):
    clock.current = time.time()  # the upstream's tokens carry wall-clock time
    return make_broker(make_app, upstream)


def make_broker(make_app, upstream, **config):
    app = make_app(ISSUER_BASE_URL=BASE, **config)
    with app.app_context():
        create_realm("default")
        idps.create_idp(get_realm("default"), {
            "name": "corp", "type": "oidc",
            "config": {"issuer": upstream.issuer, "client_ids": list(UPSTREAM_CLIENTS)},
            "upstream_client_id": "authserver", "upstream_auth_method": "client_secret_basic",
            "upstream_secret": SECRET}, "test")
    make_backend(app)
    make_client(app, client_id="web-app", name="Web chat", auth_method="none", grant_types=["authorization_code"],
                redirect_uris=["https://chat.example.test/callback"], audiences=["chat-api"], idps=["corp"])
    return app


def ctx() -> RealmContext:
    return RealmContext(realm=get_realm("default"), issuer=ISSUER, state=app_state())


def corp(name: str = "corp") -> IdentityProvider:
    return idps.get_idp(get_realm("default"), name)


def begin(app, **options) -> leg.UpstreamStart:
    with app.app_context():
        return leg.start(ctx(), corp(), CALLBACK, **options)


def come_back(app, started: leg.UpstreamStart, answer: dict, *, state: str | None = None,
              sealed: bytes | None = None, idp_name: str = "corp"):
    with app.app_context():
        return leg.finish(ctx(), get_client(get_realm("default"), "web-app"), corp(idp_name),
                          started.leg_sealed if sealed is None else sealed, state or started.state, answer)


def log_in(app, upstream, username: str = "alice", **options) -> tuple[leg.UpstreamStart, dict]:
    started = begin(app, **options)
    return started, upstream.follow_authorization(started.redirect_url, username, CALLBACK)


def leg_context() -> str:
    return f"upstream-leg:{get_realm('default').id}:corp"


def opened(app, started: leg.UpstreamStart) -> dict:
    with app.app_context():
        return json.loads(app_state().box.open(started.leg_sealed, context=leg_context()))


def resealed(app, started: leg.UpstreamStart, **changes) -> bytes:
    with app.app_context():
        return app_state().box.seal(json.dumps({**opened(app, started), **changes}).encode(), context=leg_context())


def use(app, **settings) -> None:
    with app.app_context():
        idps.update_idp(get_realm("default"), "corp", settings, "test")


def refused(app, started, answer, match: str, **kwargs) -> leg.UpstreamLoginFailed:
    with pytest.raises(leg.UpstreamLoginFailed, match=match) as caught:
        come_back(app, started, answer, **kwargs)
    assert SECRET not in caught.value.message
    return caught.value


# --- the round trip ----------------------------------------------------------------------


def test_a_round_trip_returns_the_upstream_identity(broker, upstream):
    started, answer = log_in(broker, upstream, "alice")
    identity = come_back(broker, started, answer)
    assert identity.subject == "alice"
    assert identity.claims["email"] == "alice@example.test" and identity.claims["email_verified"] is True
    assert answer["state"] == started.state and answer["iss"] == upstream.issuer


def test_the_request_carries_pkce_state_and_nonce_and_seals_the_rest(broker, upstream):
    started = begin(broker, login_hint="alice@example.test", prompt="login", max_age=300)
    url = urlsplit(started.redirect_url)
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == upstream.discovery["authorization_endpoint"]
    inside = opened(broker, started)
    assert query == {"response_type": "code", "client_id": "authserver", "redirect_uri": CALLBACK,
                     "scope": "openid email profile", "state": started.state, "nonce": inside["nonce"],
                     "code_challenge": s256(inside["verifier"]), "code_challenge_method": "S256",
                     "login_hint": "alice@example.test", "prompt": "login", "max_age": "300"}
    for secret in (started.state, inside["nonce"], inside["verifier"]):
        assert len(base64.urlsafe_b64decode(secret + "=")) >= 32
    assert inside["verifier"].encode() not in started.leg_sealed and inside["nonce"].encode() not in started.leg_sealed
    assert inside["redirect_uri"] == CALLBACK and inside["idp"] == "corp"
    again = begin(broker)
    assert again.state != started.state and opened(broker, again)["nonce"] != inside["nonce"]


def test_the_connections_scope_is_asked_for(broker, upstream):
    use(broker, upstream_scope="openid email")
    started, answer = log_in(broker, upstream)
    assert parse_qs(urlsplit(started.redirect_url).query)["scope"] == ["openid email"]
    assert "given_name" not in come_back(broker, started, answer).claims


def test_max_age_is_honoured_through_auth_time(broker, upstream, clock):
    started, answer = log_in(broker, upstream, max_age=60)
    assert come_back(broker, started, answer).subject == "alice"
    started, answer = log_in(broker, upstream, max_age=60)
    clock.advance(200)  # the user signed in upstream longer ago than max_age (plus skew)
    refused(broker, started, answer, "recently enough")


@pytest.mark.parametrize(("client_id", "method", "secret"), [
    ("authserver", "client_secret_basic", SECRET),
    ("authserver-post", "client_secret_post", SECRET),
    ("authserver-pkjwt", "private_key_jwt", private_jwk(EC_KEY, "ec-1")),
    ("authserver-pkjwt", "private_key_jwt", private_jwk(RSA_KEY, "rsa-1")),
    ("authserver-public", "none", None),
])
def test_each_client_authentication_method_is_accepted_by_the_upstream(broker, upstream, client_id, method, secret):
    use(broker, upstream_client_id=client_id, upstream_auth_method=method, upstream_secret=secret)
    started, answer = log_in(broker, upstream, "bob")
    assert come_back(broker, started, answer).subject == "bob"


def test_a_wrong_client_secret_is_refused_by_the_upstream(broker, upstream):
    use(broker, upstream_secret="not-the-secret-0123456789")
    started, answer = log_in(broker, upstream)
    refused(broker, started, answer, r"did not redeem the code \(invalid_client\)")


# --- what must be refused ----------------------------------------------------------------


def test_a_wrong_state_is_refused(broker, upstream):
    started, answer = log_in(broker, upstream)
    refused(broker, started, answer, "does not belong to this sign-in", state="forged-state")


def test_a_tampered_or_missing_leg_is_refused(broker, upstream):
    started, answer = log_in(broker, upstream)
    tampered = bytearray(started.leg_sealed)
    tampered[-1] ^= 1
    refused(broker, started, answer, "cannot be completed", sealed=bytes(tampered))
    refused(broker, started, answer, "cannot be completed", sealed=b"")


def test_a_leg_of_another_connection_is_refused(broker, upstream):
    with broker.app_context():
        row = corp()
        idps.create_idp(get_realm("default"), {"name": "corp2", "type": "oidc", "config": row.config}, "test")
        from authserver.registry import clients

        clients.update_client(get_realm("default"), "web-app", {"idps": ["corp", "corp2"]}, "test")
    started, answer = log_in(broker, upstream)
    refused(broker, started, answer, "cannot be completed", idp_name="corp2")  # sealed to corp


def test_an_expired_leg_is_refused(broker, upstream, clock):
    started, answer = log_in(broker, upstream)
    clock.advance(600)
    refused(broker, started, answer, "took too long")


def test_the_timeout_is_a_setting(make_app, clock, upstream):
    clock.current = time.time()
    app = make_broker(make_app, upstream, BROWSER_LOGIN_TIMEOUT_SECONDS=120)
    started, answer = log_in(app, upstream)
    clock.advance(121)
    refused(app, started, answer, "took too long")


def test_a_replayed_answer_is_refused(broker, upstream):
    started, answer = log_in(broker, upstream)
    come_back(broker, started, answer)
    refused(broker, started, answer, r"did not redeem the code \(invalid_grant\)")


def test_a_forged_code_is_refused(broker, upstream):
    started, answer = log_in(broker, upstream)
    refused(broker, started, answer | {"code": "forged"}, r"did not redeem the code \(invalid_grant\)")
    refused(broker, started, {k: v for k, v in answer.items() if k != "code"}, "has no code")


def test_a_code_redeemed_with_another_verifier_is_refused(broker, upstream):
    """RFC 7636 §4.6: the upstream checks the verifier against the challenge it was sent."""
    started, answer = log_in(broker, upstream)
    refused(broker, started, answer, r"invalid_grant", sealed=resealed(broker, started, verifier="v" * 43))


def test_a_wrong_nonce_is_refused(broker, upstream):
    started, answer = log_in(broker, upstream)
    refused(broker, started, answer, "nonce", sealed=resealed(broker, started, nonce="another-login-" + "n" * 40))


@pytest.mark.parametrize("change", [
    lambda answer: answer | {"iss": "https://evil.example"},
    lambda answer: answer | {"iss": answer["iss"] + "/"},
    lambda answer: {k: v for k, v in answer.items() if k != "iss"},  # promised in discovery (RFC 9207 §3)
])
def test_an_iss_mismatch_is_refused(broker, upstream, change):
    assert upstream.discovery["authorization_response_iss_parameter_supported"] is True
    started, answer = log_in(broker, upstream)
    refused(broker, started, change(answer), r"\(iss\)")


def test_an_upstream_denial_is_a_login_failure(broker, upstream):
    started = begin(broker)
    answer = upstream.follow_authorization(started.redirect_url, "alice", CALLBACK, deny=True)
    assert answer["error"] == "access_denied" and answer["state"] == started.state
    assert refused(broker, started, answer, "refused the sign-in").message == \
        "the identity provider refused the sign-in (access_denied)"


def test_an_upstream_error_is_shown_only_as_harmless_characters(broker, upstream):
    started = begin(broker)
    answer = {"error": '<script>alert("x")</script>', "state": started.state, "iss": upstream.issuer}
    message = refused(broker, started, answer, "refused the sign-in").message
    assert "<" not in message and '"' not in message


# --- the token endpoint, faked ----------------------------------------------------------


class TokenEndpoint:
    """Stands in for the upstream's token endpoint: records each call, answers ``answer``."""

    def __init__(self, answer):
        self.answer, self.calls = answer, []

    def __call__(self, url, *, data, headers=None):
        self.calls.append((url, dict(data), dict(headers or {})))
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def fake_token_endpoint(monkeypatch, app, answer) -> TokenEndpoint:
    endpoint = TokenEndpoint(answer)
    with app.app_context():
        monkeypatch.setattr(app_state().http, "post", endpoint)
    return endpoint


def answer_for(started: leg.UpstreamStart, upstream) -> dict:
    return {"code": "a-code", "state": started.state, "iss": upstream.issuer}


@pytest.mark.parametrize(("response", "message"), [
    (HttpResponse(500, {}, b"<html>oops</html>"), r"did not redeem the code \(500\)"),
    (HttpResponse(400, {}, b'{"error": "invalid_grant", "error_description": "code <expired>"}'), "invalid_grant"),
    (HttpResponse(200, {}, b"not json"), r"did not redeem the code \(200\)"),
    (HttpResponse(200, {}, b'["a list"]'), r"did not redeem the code \(200\)"),
    (HttpResponse(200, {}, b'{"access_token": "at", "token_type": "Bearer"}'), "without an ID token"),
    (HttpResponse(200, {}, b'{"id_token": "not.a.jwt"}'), "could not be verified"),
])
def test_a_bad_token_endpoint_answer_is_a_login_failure(broker, upstream, monkeypatch, response, message):
    started = begin(broker)
    fake_token_endpoint(monkeypatch, broker, response)
    failure = refused(broker, started, answer_for(started, upstream), message)
    assert "<" not in failure.message and "a-code" not in failure.message


def test_an_unreachable_token_endpoint_is_unavailable(broker, upstream, monkeypatch):
    started = begin(broker)
    fake_token_endpoint(monkeypatch, broker, UpstreamUnavailable("connection refused"))
    with pytest.raises(UpstreamUnavailable):
        come_back(broker, started, answer_for(started, upstream))


def test_client_secret_basic_form_encodes_id_and_secret(broker, upstream, monkeypatch):
    """RFC 6749 §2.3.1: application/x-www-form-urlencoded, then Basic."""
    started = begin(broker)
    endpoint = fake_token_endpoint(monkeypatch, broker, HttpResponse(400, {}, b'{"error": "x"}'))
    refused(broker, started, answer_for(started, upstream), "did not redeem")
    url, form, headers = endpoint.calls[0]
    inside = opened(broker, started)
    assert url == upstream.discovery["token_endpoint"]
    assert form == {"grant_type": "authorization_code", "code": "a-code", "redirect_uri": CALLBACK,
                    "code_verifier": inside["verifier"]}
    assert base64.b64decode(headers["Authorization"].removeprefix("Basic ")).decode() == \
        f"authserver:{quote_plus(SECRET)}"


def test_the_client_assertion_is_short_lived_and_single_use(broker, upstream, monkeypatch):
    """RFC 7523 §3: iss = sub = our client id, aud = the token endpoint, a fresh jti, short exp."""
    use(broker, upstream_client_id="authserver-pkjwt", upstream_auth_method="private_key_jwt",
        upstream_secret=private_jwk(EC_KEY, "ec-1"))
    endpoint = fake_token_endpoint(monkeypatch, broker, HttpResponse(400, {}, b'{"error": "x"}'))
    for _ in range(2):
        started = begin(broker)
        refused(broker, started, answer_for(started, upstream), "did not redeem")
    assertions = []
    for _url, form, headers in endpoint.calls:
        assert "Authorization" not in headers and form["client_id"] == "authserver-pkjwt"
        assert form["client_assertion_type"] == leg.CLIENT_ASSERTION_TYPE
        assertions.append(form["client_assertion"])
    header = pyjwt.get_unverified_header(assertions[0])
    assert header["alg"] == "ES256" and header["kid"] == "ec-1"
    first, second = (pyjwt.decode(a, EC_KEY.as_pem(private=False), algorithms=["ES256"],
                                  audience=upstream.discovery["token_endpoint"]) for a in assertions)
    assert first["iss"] == first["sub"] == "authserver-pkjwt" and 0 < first["exp"] - first["iat"] <= 60
    assert first["jti"] != second["jti"]


def test_a_p384_key_signs_with_es384():
    key = {**ECKey.generate_key("P-384", private=True).as_dict(private=True)}
    assert leg.assertion_alg(key) == "ES384"
    with pytest.raises(ValueError, match="ES384"):
        leg.assertion_alg({**key, "alg": "ES256"})


# --- the secret at rest ------------------------------------------------------------------


def test_the_upstream_secret_is_not_in_the_database_in_clear(broker, database_url):
    with broker.app_context():
        row = db.session.scalars(select(IdentityProvider)).one()
        assert row.upstream_secret_sealed and row.to_dict()["upstream_secret_set"] is True
        assert SECRET not in json.dumps(row.to_dict())
        for table in db.metadata.sorted_tables:  # every stored value, whatever the database
            for values in db.session.execute(table.select()):
                assert all(SECRET.encode() not in (v if isinstance(v, bytes) else str(v).encode()) for v in values)
        db.session.remove()
        db.engine.dispose()
    if database_url.startswith("sqlite:///"):
        path = database_url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-journal"):
            try:
                with open(path + suffix, "rb") as handle:
                    assert SECRET.encode() not in handle.read()
            except FileNotFoundError:
                continue


def test_supports_browser_login_is_the_connectors_capability(broker):
    from tests.factories import AppBackend

    AppBackend(broker)
    with broker.app_context():
        assert leg.supports_browser_login(corp()) is True
        assert leg.supports_browser_login(corp("app")) is False
        idps.update_idp(get_realm("default"), "corp", {"disabled": True}, "test")
        assert leg.supports_browser_login(corp()) is False


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
