"""RFC 6749 §4.4 client credentials with clients made by ``authserver clients create``:
client_secret_basic, client_secret_post and RFC 7523 private_key_jwt; RFC 9068 tokens."""

from __future__ import annotations

import json
import uuid

import jwt as pyjwt
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from tests.cli_helpers import TOKEN_URL, basic, cli

ISSUER = "http://auth.test/realms/default"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def backend(runner):
    return cli(runner, "backends", "create", "--realm", "default", "--audience", "chat-api",
               "--scopes", "chat:read chat:write", "--default-scopes", "chat:read")


def create_client(runner, *options: str) -> dict:
    return cli(runner, "clients", "create", "--realm", "default", "--name", "service",
               "--audience", "chat-api", "--scopes", "chat:read chat:write", *options)


def token(client, headers=None, **form):
    form = {"grant_type": "client_credentials", "audience": "chat-api", **form}
    return client.post(TOKEN_URL, data=form, headers=headers or {})


def assert_error(response, status: int, error: str) -> None:
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"] == error


@pytest.fixture
def key_client(runner, backend, tmp_path):
    key = ECKey.generate_key("P-256")
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps({"keys": [{**key.as_dict(private=False), "kid": "k1", "alg": "ES256"}]}))
    created = create_client(runner, "--auth-method", "private_key_jwt", "--jwks-file", str(jwks_file))
    assert "client_secret" not in created
    return created["client_id"], key


def assertion(client_id: str, key, now: float, lifetime: int = 60, **claims) -> str:
    payload = {"iss": client_id, "sub": client_id, "aud": f"{ISSUER}/token", "iat": int(now),
               "exp": int(now) + lifetime, "jti": uuid.uuid4().hex, **claims}
    return jwt.encode({"alg": "ES256", "kid": "k1"}, payload, key, algorithms=["ES256"])


def assertion_form(signed: str) -> dict:
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": signed}


def test_client_secret_basic_gets_a_verifiable_at_jwt(runner, client, backend, clock):
    created = create_client(runner)
    response = token(client, basic(created["client_id"], created["client_secret"]))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["token_type"] == "Bearer" and body["scope"] == "chat:read"
    assert pyjwt.get_unverified_header(body["access_token"])["typ"] == "at+jwt"
    jwks = client.get("/realms/default/jwks").get_json()
    signing_key = pyjwt.PyJWKSet.from_dict(jwks)[pyjwt.get_unverified_header(body["access_token"])["kid"]]
    claims = pyjwt.decode(body["access_token"], signing_key.key, algorithms=["ES256"], audience="chat-api",
                          issuer=ISSUER, options={"verify_exp": False, "verify_iat": False})
    assert claims["client_id"] == claims["sub"] == created["client_id"]
    assert claims["exp"] - claims["iat"] == backend["token_ttl"] and claims["iat"] == int(clock())


def test_client_secret_post(runner, client, backend):
    created = create_client(runner, "--auth-method", "client_secret_post")
    response = token(client, client_id=created["client_id"], client_secret=created["client_secret"],
                     scope="chat:write")
    assert response.status_code == 200 and response.get_json()["scope"] == "chat:write"
    # the method is the registered one: basic is refused for a client_secret_post client
    assert_error(token(client, basic(created["client_id"], created["client_secret"])), 401, "invalid_client")


def test_private_key_jwt(client, key_client, clock):
    client_id, key = key_client
    response = token(client, **assertion_form(assertion(client_id, key, clock())))
    assert response.status_code == 200, response.get_json()


def test_replayed_assertion_is_refused(client, key_client, clock):
    client_id, key = key_client
    signed = assertion(client_id, key, clock())
    assert token(client, **assertion_form(signed)).status_code == 200
    assert_error(token(client, **assertion_form(signed)), 401, "invalid_client")


def test_expired_assertion_is_refused(client, key_client, clock):
    client_id, key = key_client
    signed = assertion(client_id, key, clock())
    clock.advance(200)  # past exp + 60 s of clock skew
    assert_error(token(client, **assertion_form(signed)), 401, "invalid_client")


def test_assertion_signed_by_another_key_is_refused(client, key_client, clock):
    client_id, _ = key_client
    intruder = ECKey.generate_key("P-256")
    signed = assertion(client_id, intruder, clock())
    assert_error(token(client, **assertion_form(signed)), 401, "invalid_client")


def test_assertion_for_another_audience_is_refused(client, key_client, clock):
    client_id, key = key_client
    signed = assertion(client_id, key, clock(), aud="http://elsewhere.test/token")
    assert_error(token(client, **assertion_form(signed)), 401, "invalid_client")


def test_wrong_secret_is_401_invalid_client(runner, client, backend):
    created = create_client(runner)
    response = token(client, basic(created["client_id"], created["client_secret"] + "x"))
    assert_error(response, 401, "invalid_client")


def test_disabled_client_is_401_invalid_client(runner, client, backend):
    created = create_client(runner)
    cli(runner, "clients", "disable", "--realm", "default", created["client_id"])
    assert_error(token(client, basic(created["client_id"], created["client_secret"])), 401, "invalid_client")
    cli(runner, "clients", "enable", "--realm", "default", created["client_id"])
    assert token(client, basic(created["client_id"], created["client_secret"])).status_code == 200


def test_grant_type_not_allowed_is_unauthorized_client(runner, client, backend):
    created = create_client(runner, "--grant-type", "token-exchange")
    response = token(client, basic(created["client_id"], created["client_secret"]))
    assert_error(response, 400, "unauthorized_client")


def test_unknown_or_unallowed_audience_is_invalid_target(runner, client, backend):
    cli(runner, "backends", "create", "--realm", "default", "--audience", "other-api", "--scopes", "x")
    created = create_client(runner)
    auth = basic(created["client_id"], created["client_secret"])
    assert_error(token(client, auth, audience="nowhere"), 400, "invalid_target")
    assert_error(token(client, auth, audience="other-api"), 400, "invalid_target")


def test_scope_not_allowed_is_invalid_scope(runner, client, backend):
    created = create_client(runner, "--scopes", "chat:read")
    response = token(client, basic(created["client_id"], created["client_secret"]), scope="chat:write")
    assert_error(response, 400, "invalid_scope")


def test_rotated_secret_keeps_the_old_one_during_the_grace_period(runner, client, backend, clock):
    created = create_client(runner)
    rotated = cli(runner, "clients", "rotate-secret", "--realm", "default", created["client_id"],
                  "--grace", "300")
    old = basic(created["client_id"], created["client_secret"])
    new = basic(created["client_id"], rotated["client_secret"])
    assert rotated["client_secret"] != created["client_secret"]
    assert token(client, old).status_code == 200 and token(client, new).status_code == 200
    clock.advance(301)
    assert_error(token(client, old), 401, "invalid_client")
    assert token(client, new).status_code == 200


def test_rotation_without_grace_ends_the_old_secret_at_once(runner, client, backend):
    created = create_client(runner)
    cli(runner, "clients", "rotate-secret", "--realm", "default", created["client_id"])
    assert_error(token(client, basic(created["client_id"], created["client_secret"])), 401, "invalid_client")
