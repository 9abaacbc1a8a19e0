"""RFC 8693 token exchange, in process: the backend-assertion path end to end, and every
refusal with its RFC error code and status (DESIGN.md, "The token exchange")."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

import jwt as pyjwt
import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey, OctKey

from authserver.identity import users
from authserver.plugin_api import TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_JWT
from authserver.registry import clients, idps
from authserver.registry.realms import get_realm
from tests.factories import ISSUER, TOKEN_EXCHANGE, AppBackend, make_backend, make_client

TOKEN_URL = "/realms/default/token"
ACL_TEMPLATE = [{"path": "/v1/users/{user_id}/**", "methods": ["GET", "POST"]},
                {"path": "/v1/devices/{uid}", "methods": ["PUT"]}]


@pytest.fixture
def backend(app):
    make_backend(app, scopes="chat:read chat:write chat:admin", default_scopes="chat:read",
                 acl_template=ACL_TEMPLATE)
    return AppBackend(app)


def exchange(client, backend, assertion, **extra):
    response = client.post(TOKEN_URL, data=backend.exchange_form(assertion, audience="chat-api", **extra))
    return response.status_code, response.get_json(), response


def error_of(client, backend, assertion, **extra):
    status, body, _ = exchange(client, backend, assertion, **extra)
    return status, body["error"]


def verified_claims(client, token: str) -> dict:
    """Verify with PyJWT against the realm's published JWKS, as a chat backend would."""
    jwks = pyjwt.PyJWKSet.from_dict(client.get("/realms/default/jwks").get_json())
    kid = pyjwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    # the frozen clock is in the future: PyJWT's wall-clock time checks do not apply
    return pyjwt.decode(token, key.key, algorithms=["ES256"], audience="chat-api", issuer=ISSUER,
                        options={"verify_iat": False, "verify_nbf": False, "verify_exp": False})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(backend, clock, **extra) -> dict:
    now = int(clock())
    return {"iss": backend.client_id, "sub": "alice", "aud": ISSUER, "iat": now, "exp": now + 120,
            "jti": uuid.uuid4().hex, **extra}


# --- the happy path --------------------------------------------------------------------


def test_backend_assertion_issues_a_verifiable_chat_jwt(client, backend, clock):
    assertion = backend.assertion(sub="alice", now=clock(), given_name="Alice", family_name="Liddell",
                                  name="Alice Liddell", custom={"tier": "gold"}, workspace="acme")
    status, body, response = exchange(client, backend, assertion)

    assert status == 200, body
    assert response.headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    assert body["issued_token_type"] == TOKEN_TYPE_ACCESS_TOKEN and body["scope"] == "chat:read"
    assert pyjwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"
    claims = verified_claims(client, body["access_token"])
    assert claims["sub"] == "alice" and claims["client_id"] == "app-backend"
    assert claims["identified"] is True and claims["verified"] is True and claims["idp"] == "app"
    assert (claims["given_name"], claims["family_name"], claims["name"]) == ("Alice", "Liddell", "Alice Liddell")
    assert claims["custom"] == {"tier": "gold"} and "unverified" not in claims
    assert claims["workspace"] == "acme" and claims["exp"] - claims["iat"] == body["expires_in"]
    uid = claims["uid"]
    assert uid != "alice"
    assert claims["acl"] == [{"path": "/v1/users/alice/**", "methods": ["GET", "POST"]},
                             {"path": f"/v1/devices/{uid}", "methods": ["PUT"]}]


def test_same_backend_user_maps_to_the_same_uid(client, backend, clock):
    def token_for(sub):
        return exchange(client, backend, backend.assertion(sub, now=clock()))[1]["access_token"]

    first, again = verified_claims(client, token_for("alice")), verified_claims(client, token_for("alice"))
    other = verified_claims(client, token_for("bob"))
    assert first["uid"] == again["uid"] != other["uid"]
    assert first["jti"] != again["jti"]


def test_requested_acl_is_granted_only_within_the_template(client, backend, clock):
    wanted = [{"path": "/v1/users/alice/messages", "methods": ["GET"]},
              {"path": "/v1/users/bob/messages", "methods": ["GET"]},
              {"path": "/v1/users/alice/profile", "methods": ["DELETE"]}]
    status, body, _ = exchange(client, backend, backend.assertion("alice", now=clock(), acl=wanted))
    assert status == 200, body
    assert verified_claims(client, body["access_token"])["acl"] == [
        {"path": "/v1/users/alice/messages", "methods": ["GET"]}]


def test_requested_acl_outside_the_template_grants_none(client, backend, clock):
    wanted = [{"path": "/v1/admin", "methods": ["GET"]}]
    status, body, _ = exchange(client, backend, backend.assertion("alice", now=clock(), acl=wanted))
    assert status == 200
    assert verified_claims(client, body["access_token"])["acl"] == []  # an ACL'd backend: always a list


def test_unverified_connection_keeps_profile_apart(app, client, clock):
    make_backend(app)
    backend = AppBackend(app, trust="unverified")
    status, body, _ = exchange(client, backend, backend.assertion("carol", now=clock(), given_name="Carol",
                                                                   custom={"tier": "gold"}))
    assert status == 200, body
    claims = verified_claims(client, body["access_token"])
    assert claims["verified"] is False and "given_name" not in claims and "custom" not in claims
    assert claims["unverified"] == {"given_name": "Carol"}


def test_requested_token_type_jwt(client, backend, clock):
    status, body, _ = exchange(client, backend, backend.assertion(now=clock()),
                               requested_token_type=TOKEN_TYPE_JWT)
    assert status == 200 and body["issued_token_type"] == TOKEN_TYPE_JWT


def test_resource_parameter_names_the_backend(client, backend, clock):
    form = backend.exchange_form(backend.assertion(now=clock()), resource="chat-api")
    response = client.post(TOKEN_URL, data=form)
    assert response.status_code == 200, response.get_json()


# --- scope arithmetic ------------------------------------------------------------------


@pytest.mark.parametrize(("requested", "granted"), [
    (None, "chat:read"),                          # backend defaults ∩ client's
    ("chat:write", "chat:write"),
    ("chat:write chat:admin", "chat:write"),      # chat:admin: backend's, not the client's
    ("chat:read chat:read chat:write", "chat:read chat:write"),
])
def test_scope_is_requested_and_client_and_backend(client, backend, clock, requested, granted):
    extra = {"scope": requested} if requested else {}
    status, body, _ = exchange(client, backend, backend.assertion(now=clock()), **extra)
    assert status == 200, body
    assert body["scope"] == granted
    assert verified_claims(client, body["access_token"])["scope"] == granted


@pytest.mark.parametrize("requested", ["chat:admin", "unknown", "admin"])
def test_no_scope_left_is_invalid_scope(client, backend, clock, requested):
    assert error_of(client, backend, backend.assertion(now=clock()), scope=requested) == (400, "invalid_scope")


# --- refusals of the subject token -----------------------------------------------------


def test_replayed_jti_is_refused(client, backend, clock):
    assertion = backend.assertion(now=clock())
    assert exchange(client, backend, assertion)[0] == 200
    status, body, _ = exchange(client, backend, assertion)
    assert (status, body["error"]) == (400, "invalid_request")
    assert "already been used" in body["error_description"]


def test_refused_assertion_does_not_burn_its_jti(client, backend, clock):
    jti = "fixed-jti"
    assert exchange(client, backend, backend.assertion(now=clock(), jti=jti), scope="nope")[0] == 400
    # the jti is spent only once every check has passed: the refused request did not spend it
    assert exchange(client, backend, backend.assertion(now=clock(), jti=jti))[0] == 200
    assert error_of(client, backend, backend.assertion(now=clock(), jti=jti)) == (400, "invalid_request")


def test_expired_assertion_is_refused(client, backend, clock):
    stale = backend.assertion(now=clock() - 600)
    status, body, _ = exchange(client, backend, stale)
    assert (status, body["error"]) == (400, "invalid_request")
    assert "expired" in body["error_description"]


def test_assertion_living_too_long_is_refused(client, backend, clock):
    assert error_of(client, backend, backend.assertion(now=clock(), lifetime=3600)) == (400, "invalid_request")


def test_wrong_audience_is_refused(client, backend, clock):
    assertion = backend.assertion(now=clock(), issuer="http://auth.test/realms/other")
    assert error_of(client, backend, assertion) == (400, "invalid_request")


@pytest.mark.parametrize("extra", [{}, {"idp": "app"}])
def test_wrong_issuer_is_refused(client, backend, clock, extra):
    token = jose_jwt.encode({"alg": "ES256", "kid": "k1"}, claims_for(backend, clock, iss="someone-else"),
                            backend.key, algorithms=["ES256"])
    assert error_of(client, backend, token, **extra) == (400, "invalid_request")


def test_alg_none_is_refused(client, backend, clock):
    token = f"{b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}." \
            f"{b64(json.dumps(claims_for(backend, clock)).encode())}."
    assert error_of(client, backend, token) == (400, "invalid_request")


def test_hmac_signed_with_the_public_key_is_refused(client, backend, clock):
    """The classic confusion attack: HS256 keyed with the registered public key's bytes."""
    header = b64(json.dumps({"alg": "HS256", "kid": "k1", "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims_for(backend, clock)).encode())
    for secret in (backend.key.as_pem(private=False), json.dumps(backend.key.as_dict(private=False)).encode()):
        signature = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        assert error_of(client, backend, f"{header}.{payload}.{b64(signature)}") == (400, "invalid_request")


def test_tampered_payload_is_refused(client, backend, clock):
    header, _, signature = backend.assertion(sub="alice", now=clock()).split(".")
    forged = b64(json.dumps(claims_for(backend, clock, sub="admin")).encode())
    assert error_of(client, backend, f"{header}.{forged}.{signature}") == (400, "invalid_request")


def test_oversized_token_is_refused(client, backend, clock):
    assertion = backend.assertion(now=clock(), custom={"blob": "x" * 17000})
    status, body, _ = exchange(client, backend, assertion)
    assert (status, body["error"]) == (400, "invalid_request")
    assert "too large" in body["error_description"]


def test_foreign_signed_token_is_refused(client, backend, clock):
    foreign = ECKey.generate_key("P-256")
    token = jose_jwt.encode({"alg": "ES256", "kid": "k1"}, claims_for(backend, clock), foreign,
                            algorithms=["ES256"])
    assert error_of(client, backend, token) == (400, "invalid_request")


def test_refusals_leak_no_detail(client, backend, clock):
    foreign = ECKey.generate_key("P-256")
    token = jose_jwt.encode({"alg": "ES256", "kid": "k1"}, claims_for(backend, clock), foreign,
                            algorithms=["ES256"])
    body = exchange(client, backend, token)[1]
    assert body["error_description"] == "the subject token is invalid"


# --- refusals of the request -----------------------------------------------------------


def test_missing_subject_token_is_invalid_request(client, backend):
    form = backend.exchange_form("x")
    del form["subject_token"]
    response = client.post(TOKEN_URL, data={**form, "audience": "chat-api"})
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_request")


def test_unsupported_subject_token_type(client, backend, clock):
    """An unknown token type URN: ``unsupported_token_type`` (the RFC 7009 §2.2.1 code, listed
    in DESIGN.md); a known type no allowed connection accepts: ``invalid_request``."""
    form = {**backend.exchange_form(backend.assertion(now=clock()), audience="chat-api"),
            "subject_token_type": "urn:example:saml"}
    response = client.post(TOKEN_URL, data=form)
    assert (response.status_code, response.get_json()["error"]) == (400, "unsupported_token_type")
    form["subject_token_type"] = TOKEN_TYPE_ID_TOKEN
    response = client.post(TOKEN_URL, data=form)
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_request")


def test_bad_requested_token_type(client, backend, clock):
    status, body, _ = exchange(client, backend, backend.assertion(now=clock()),
                               requested_token_type="urn:ietf:params:oauth:token-type:saml2")
    assert (status, body["error"]) == (400, "invalid_request")


def test_audience_not_allowed_is_invalid_target(app, client, backend, clock):
    make_backend(app, audience="other-api")
    form = {**backend.exchange_form(backend.assertion(now=clock())), "audience": "other-api"}
    response = client.post(TOKEN_URL, data=form)
    assert (response.status_code, response.get_json()["error"]) == (400, "invalid_target")
    form = {**backend.exchange_form(backend.assertion(now=clock())), "audience": "nope"}
    assert client.post(TOKEN_URL, data=form).get_json()["error"] == "invalid_target"


def test_idp_not_allowed_for_the_client_is_refused(app, client, backend, clock):
    with app.app_context():
        idps.create_idp(get_realm("default"), {"name": "other", "type": "backend_assertion",
                                               "client_id": "app-backend"}, "test")
    status, body, _ = exchange(client, backend, backend.assertion(now=clock()), idp="other")
    assert (status, body["error"]) == (400, "invalid_request")


def test_disabled_user_is_invalid_grant(app, client, backend, clock):
    assert exchange(client, backend, backend.assertion("alice", now=clock()))[0] == 200
    with app.app_context():
        users.set_user_disabled(get_realm("default"), "alice", True, "test")
    assert error_of(client, backend, backend.assertion("alice", now=clock())) == (400, "invalid_grant")


def test_disabled_connection_is_refused(app, client, backend, clock):
    with app.app_context():
        idps.update_idp(get_realm("default"), "app", {"disabled": True}, "test")
    assert error_of(client, backend, backend.assertion(now=clock())) == (400, "invalid_request")
    with app.app_context():
        idps.update_idp(get_realm("default"), "app", {"disabled": False}, "test")
    assert exchange(client, backend, backend.assertion(now=clock()))[0] == 200


def test_disabled_client_is_invalid_client(app, client, backend, clock):
    with app.app_context():
        clients.set_disabled(get_realm("default"), "app-backend", True, "test")
    status, body, _ = exchange(client, backend, backend.assertion(now=clock()))
    assert (status, body["error"]) == (401, "invalid_client")


def test_wrong_client_secret_is_invalid_client(client, backend, clock):
    form = {**backend.exchange_form(backend.assertion(now=clock()), audience="chat-api"),
            "client_secret": "wrong"}
    response = client.post(TOKEN_URL, data=form)
    assert (response.status_code, response.get_json()["error"]) == (401, "invalid_client")


def test_client_without_the_grant_is_unauthorized_client(app, client, backend, clock):
    with app.app_context():
        clients.update_client(get_realm("default"), "app-backend",
                              {"grant_types": ["client_credentials"]}, "test")
    assert error_of(client, backend, backend.assertion(now=clock())) == (400, "unauthorized_client")


# --- public clients and shared secrets ---------------------------------------------------


def test_public_client_presents_the_backends_assertion(app, client, backend, clock):
    web = make_client(app, client_id="chat-web", auth_method="none", audiences=["chat-api"],
                      scopes="chat:read", idps=["app"])
    assert "client_secret" not in web
    form = {"grant_type": TOKEN_EXCHANGE, "client_id": "chat-web", "audience": "chat-api",
            "subject_token": backend.assertion("alice", now=clock()), "subject_token_type": TOKEN_TYPE_JWT}
    response = client.post(TOKEN_URL, data=form)
    assert response.status_code == 200, response.get_json()
    claims = verified_claims(client, response.get_json()["access_token"])
    assert claims["client_id"] == "chat-web" and claims["sub"] == "alice"


def test_hs256_assertion_with_the_connections_shared_secret(app, client, clock):
    make_backend(app)
    backend = AppBackend(app, shared_secret=True)
    secret = backend.idp["shared_secret"]
    assert secret and backend.idp["config"]["allow_hs256"] is True
    token = jose_jwt.encode({"alg": "HS256"}, claims_for(backend, clock), OctKey.import_key(secret.encode()),
                            algorithms=["HS256"])
    status, body, _ = exchange(client, backend, token)
    assert status == 200, body
    other = jose_jwt.encode({"alg": "HS256"}, claims_for(backend, clock),
                            OctKey.import_key(b"y" * 43), algorithms=["HS256"])
    assert error_of(client, backend, other) == (400, "invalid_request")


def test_hs256_is_refused_without_a_shared_secret(client, backend, clock):
    token = jose_jwt.encode({"alg": "HS256"}, claims_for(backend, clock), OctKey.import_key(b"z" * 43),
                            algorithms=["HS256"])
    assert error_of(client, backend, token) == (400, "invalid_request")


def test_connection_changes_apply_at_once(app, client, backend, clock):
    """The connector is rebuilt when its configuration changes, even within one second."""
    assert exchange(client, backend, backend.assertion(now=clock()))[0] == 200
    with app.app_context():
        _, secret = idps.update_idp(get_realm("default"), "app", {"shared_secret": True}, "test")
    token = jose_jwt.encode({"alg": "HS256"}, claims_for(backend, clock), OctKey.import_key(secret.encode()),
                            algorithms=["HS256"])
    status, body, _ = exchange(client, backend, token)
    assert status == 200, body
