"""Chat backends with a vendor token profile, end to end: configured through the CLI and the
admin API, a backend assertion exchanged at the token endpoint, the token verified as the
vendor would (its SDK, or PyJWT with the vendor secret / public key).

Vendor tokens are not ours to introspect (``active: false``); revocation for these backends
works by refusing further exchanges. The credential is refused at configuration time when
missing or malformed, and never shows up in a response, CLI output, log line or audit entry.
"""

from __future__ import annotations

import json
import logging
import time

import jwt as pyjwt
import pytest
from sqlalchemy import text

from authserver.cli import main
from authserver.extensions import db
from authserver.identity import users
from authserver.plugin_api import TOKEN_TYPE_JWT
from authserver.registry import backends
from authserver.registry.realms import create_realm, get_realm
from authserver_plugins.profiles.matrix import localpart
from tests.cli_helpers import admin_token, bearer, cli, cli_error
from tests.factories import AppBackend, basic_auth, make_backend, make_client
from tests.plugins.profiles.helpers import (  # the sample credentials of the profile tests
    STREAM_SECRET,
    SUNSHINE_SECRET,
    TWILIO_SECRET,
    cases,
    twilio_credential,
)

# Sunshine's documented secrets are 24 characters: PyJWT warns, the vendor accepts them.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
TOKEN_URL = "/realms/default/token"
VENDORS = ("twilio", "vonage", "sunshine", "stream", "matrix")
CASES = cases()
access_token = pytest.importorskip("twilio.jwt.access_token", reason="the twilio SDK is not installed")


def audience(profile: str) -> str:
    return f"{profile}-chat"


@pytest.fixture(autouse=True)
def wall_clock(clock):
    """Vendor SDKs check exp/nbf against the wall clock: issue at real time."""
    clock.current = time.time()


@pytest.fixture
def vendor_backends(app):
    for profile in VENDORS:
        make_backend(app, audience=audience(profile), profile=profile,
                     credential=CASES[profile].credential)
    return AppBackend(app, audiences=tuple(audience(p) for p in VENDORS))


def exchange(client, app_backend, profile: str, sub: str = "alice", **claims):
    form = app_backend.exchange_form(app_backend.assertion(sub=sub, **claims), audience=audience(profile))
    response = client.post(TOKEN_URL, data=form)
    return response.status_code, response.get_json()


def issued(client, app_backend, profile: str, sub: str = "alice") -> dict:
    status, body = exchange(client, app_backend, profile, sub)
    assert status == 200, body
    assert body["issued_token_type"] == TOKEN_TYPE_JWT
    return body


def describe(app, profile: str) -> dict:
    with app.app_context():
        return backends.describe_backend(backends.get_backend(get_realm("default"), audience(profile)))


# --- every vendor: exchanged, verified with the vendor's key ----------------------------


def test_twilio_token_passes_the_sdk_decoder(client, vendor_backends):
    body = issued(client, vendor_backends, "twilio")
    decoded = access_token.AccessToken.from_jwt(body["access_token"], key=TWILIO_SECRET)
    assert decoded.headers["cty"] == "twilio-fpa;v=1"
    assert decoded.payload["grants"]["identity"] == "alice"
    assert decoded.payload["grants"]["chat"]["service_sid"] == twilio_credential()["chat_service_sid"]
    assert decoded.payload["iss"] == twilio_credential()["api_key_sid"]


def test_vonage_token_verifies_with_the_application_public_key(client, vendor_backends):
    token = issued(client, vendor_backends, "vonage")["access_token"]
    claims = pyjwt.decode(token, CASES["vonage"].verify_key(), algorithms=["RS256"])
    assert claims["sub"] == "alice"
    assert claims["application_id"] == CASES["vonage"].credential["application_id"]
    assert "/*/conversations/**" in claims["acl"]["paths"]


def test_sunshine_token_names_the_key_and_the_external_id(client, vendor_backends):
    token = issued(client, vendor_backends, "sunshine")["access_token"]
    assert pyjwt.get_unverified_header(token)["kid"] == CASES["sunshine"].credential["key_id"]
    claims = pyjwt.decode(token, SUNSHINE_SECRET, algorithms=["HS256"])
    assert (claims["scope"], claims["external_id"]) == ("user", "alice")


def test_stream_token_verifies_with_the_api_secret(client, vendor_backends):
    token = issued(client, vendor_backends, "stream")["access_token"]
    claims = pyjwt.decode(token, STREAM_SECRET, algorithms=["HS256"])
    assert claims["user_id"] == "alice" and claims["exp"] > claims["iat"]


def test_stream_token_has_the_sdk_structure(client, vendor_backends):
    stream_chat = pytest.importorskip("stream_chat")
    token = issued(client, vendor_backends, "stream")["access_token"]
    sdk = stream_chat.StreamChat(api_key="mmhfdzb5evj2", api_secret=STREAM_SECRET)
    reference = sdk.create_token("alice", exp=int(time.time()) + 600, iat=int(time.time()))
    assert pyjwt.get_unverified_header(token) == pyjwt.get_unverified_header(reference)
    assert set(pyjwt.decode(token, STREAM_SECRET, algorithms=["HS256"])) == \
        set(pyjwt.decode(reference, STREAM_SECRET, algorithms=["HS256"]))


def test_matrix_token_verifies_with_the_published_public_key(app, client, vendor_backends):
    info = describe(app, "matrix")["profile_info"]
    token = issued(client, vendor_backends, "matrix", sub="Bob@example.com")["access_token"]
    claims = pyjwt.decode(token, info["public_key"], algorithms=[info["algorithm"]],
                          audience="matrix", issuer="https://auth.example.test")
    assert claims["sub"] == localpart("Bob@example.com") == "=5fbob=40example.com"
    assert "secret: |" in info["jwt_config"]
    assert info["public_key"].strip().splitlines()[1] in info["jwt_config"]


def test_a_requested_jwt_is_the_vendor_token(client, vendor_backends):
    form = vendor_backends.exchange_form(vendor_backends.assertion(sub="alice"), audience=audience("stream"),
                                         requested_token_type=TOKEN_TYPE_JWT)
    body = client.post(TOKEN_URL, data=form).get_json()
    assert body["issued_token_type"] == TOKEN_TYPE_JWT
    assert pyjwt.decode(body["access_token"], STREAM_SECRET, algorithms=["HS256"])["user_id"] == "alice"


# --- lifetimes --------------------------------------------------------------------------


def test_twilio_lifetime_is_capped_at_24_hours(make_app, clock):
    app = make_app(MAX_TOKEN_LIFETIME=7 * 24 * 3600)
    with app.app_context():
        create_realm("default")
    make_backend(app, audience=audience("twilio"), profile="twilio",
                 credential=twilio_credential(), token_ttl=3 * 24 * 3600)
    app_backend = AppBackend(app, audiences=(audience("twilio"),))
    body = issued(app.test_client(), app_backend, "twilio")
    claims = pyjwt.decode(body["access_token"], TWILIO_SECRET, algorithms=["HS256"])
    assert body["expires_in"] == claims["exp"] - claims["iat"] == 24 * 3600


def test_the_server_maximum_caps_vendor_tokens_too(app, make_app):
    make_backend(app, audience=audience("stream"), profile="stream",
                 credential=CASES["stream"].credential, token_ttl=app.config["MAX_TOKEN_LIFETIME"])
    app_backend = AppBackend(app, audiences=(audience("stream"),))
    # the server restarts with a lower maximum after the backend was configured
    lowered = make_app(MAX_TOKEN_LIFETIME=120, DEFAULT_TOKEN_LIFETIME=120)
    body = issued(lowered.test_client(), app_backend, "stream")
    claims = pyjwt.decode(body["access_token"], STREAM_SECRET, algorithms=["HS256"])
    assert body["expires_in"] == claims["exp"] - claims["iat"] == 120


# --- no introspection; revocation by refusing further exchanges ------------------------


@pytest.mark.parametrize("profile", VENDORS)
def test_vendor_tokens_cannot_be_introspected(app, client, vendor_backends, profile):
    checker = make_client(app, client_id="chat-backend", name="chat backend",
                          auth_method="client_secret_basic", grant_types=["client_credentials"])
    token = issued(client, vendor_backends, profile)["access_token"]
    response = client.post("/realms/default/introspect", data={"token": token},
                           headers=basic_auth("chat-backend", checker["client_secret"]))
    assert response.status_code == 200 and response.get_json() == {"active": False}


@pytest.mark.parametrize("profile", VENDORS)
def test_a_disabled_user_gets_no_further_vendor_token(app, client, vendor_backends, profile):
    issued(client, vendor_backends, profile, sub="mallory")
    with app.app_context():
        users.set_user_disabled(get_realm("default"), "mallory", True, "test")
    status, body = exchange(client, vendor_backends, profile, sub="mallory")
    assert (status, body["error"]) == (400, "invalid_grant")
    assert issued(client, vendor_backends, profile, sub="alice")  # others unaffected


# --- configuration: refused early, in one line, naming the key --------------------------


MISSING = {"twilio": "credential.chat_service_sid", "vonage": "credential.private_key",
           "sunshine": "credential.key_id", "stream": "credential.api_secret"}


def _without(credential: dict, key: str) -> dict:
    return {k: v for k, v in credential.items() if k != key}


@pytest.mark.parametrize("profile", sorted(MISSING))
def test_cli_refuses_a_missing_credential(runner, profile):
    line = cli_error(runner, "backends", "create", "--realm", "default",
                     "--audience", audience(profile), "--profile", profile)
    assert "credential" in line and profile in line


@pytest.mark.parametrize("profile", sorted(MISSING))
def test_cli_refuses_a_credential_lacking_a_key(runner, profile, tmp_path):
    key = MISSING[profile].split(".", 1)[1]
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(_without(CASES[profile].credential, key)))
    line = cli_error(runner, "backends", "create", "--realm", "default",
                     "--audience", audience(profile), "--profile", profile, "--credential", f"@{path}")
    assert MISSING[profile] in line
    assert not any(secret in line for secret in CASES[profile].secrets)


@pytest.mark.parametrize("credential, named", [
    ({**twilio_credential(), "api_key_secret": "short"}, "credential.api_key_secret"),
    ({**twilio_credential(), "account_sid": "XX1"}, "credential.account_sid"),
    ({**twilio_credential(), "region": "us1"}, "credential.region"),
    (["not", "an", "object"], "credential"),
])
def test_cli_refuses_a_malformed_credential(runner, credential, named):
    line = cli_error(runner, "backends", "create", "--realm", "default", "--audience", "t",
                     "--profile", "twilio", "--credential", json.dumps(credential))
    assert line.split(":")[0].endswith(named) or named in line
    assert TWILIO_SECRET not in line


def test_cli_refuses_credential_text_that_is_not_json(runner):
    line = cli_error(runner, "backends", "create", "--realm", "default", "--audience", "t",
                     "--profile", "stream", "--credential", "api_secret=" + STREAM_SECRET)
    assert "--credential" in line and STREAM_SECRET not in line


def test_cli_refuses_a_credential_for_the_native_profile(runner):
    line = cli_error(runner, "backends", "create", "--realm", "default", "--audience", "t",
                     "--credential", "{}")
    assert "credential" in line and "native" in line


def test_changing_profile_needs_the_new_vendors_credential(runner):
    cli(runner, "backends", "create", "--realm", "default", "--audience", "c", "--profile", "stream",
        "--credential", json.dumps(CASES["stream"].credential))
    line = cli_error(runner, "backends", "update", "--realm", "default", "c", "--profile", "twilio")
    assert "credential" in line and "twilio" in line


@pytest.mark.parametrize("profile", sorted(MISSING))
def test_admin_api_refuses_a_bad_credential_with_400(runner, client, profile):
    headers = bearer(admin_token(runner, client))
    key = MISSING[profile].split(".", 1)[1]
    for credential, named in ((None, "credential"),
                              (_without(CASES[profile].credential, key), MISSING[profile])):
        body = {"audience": audience(profile), "profile": profile}
        if credential is not None:
            body["credential"] = credential
        response = client.post("/admin/realms/default/backends", json=body, headers=headers)
        assert response.status_code == 400, response.get_json()
        assert response.get_json()["error"] == "invalid_request"
        assert named in response.get_json()["error_description"]


# --- the credential never shows -------------------------------------------------------


def _all_secrets() -> list[str]:
    return [s for profile in VENDORS for s in CASES[profile].secrets]


def _leaks(text_: str) -> list[str]:
    return [s for s in _all_secrets() if s in text_]


def test_credential_never_in_responses_output_logs_or_audit(app, client, runner, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    headers = bearer(admin_token(runner, client))
    seen: list[str] = []
    for profile in ("twilio", "vonage"):  # through the CLI, from a file
        path = tmp_path / f"{profile}.json"
        path.write_text(json.dumps(CASES[profile].credential))
        for args in (("create", "--realm", "default", "--audience", audience(profile), "--profile", profile,
                      "--scopes", "chat:read chat:write", "--default-scopes", "chat:read"),
                     ("update", "--realm", "default", audience(profile), "--profile", profile)):
            result = runner.invoke(main, ["backends", *args, "--credential", f"@{path}"])
            assert result.exit_code == 0, result.output
            seen.append(result.output)
        for as_json in ((), ("--json",)):
            seen.append(runner.invoke(main, ["backends", "show", "--realm", "default",
                                            audience(profile), *as_json]).output)
    for profile in ("sunshine", "stream", "matrix"):  # through the admin API
        body = {"audience": audience(profile), "profile": profile, "credential": CASES[profile].credential,
                "scopes": "chat:read chat:write", "default_scopes": "chat:read"}
        update = {"credential": CASES[profile].credential}
        for method, path, data in (("POST", "", body), ("PATCH", f"/{audience(profile)}", update)):
            response = client.open(f"/admin/realms/default/backends{path}", method=method, json=data,
                                   headers=headers)
            assert response.status_code in (200, 201), response.get_json()
            seen.append(response.get_data(as_text=True))
    seen.append(client.get("/admin/realms/default/backends", headers=headers).get_data(as_text=True))
    for profile in VENDORS:
        response = client.get(f"/admin/realms/default/backends/{audience(profile)}", headers=headers)
        assert response.get_json()["credential_set"] is True and "credential" not in response.get_json()
        seen.append(response.get_data(as_text=True))
    seen.append(runner.invoke(main, ["backends", "list", "--realm", "default"]).output)

    app_backend = AppBackend(app, audiences=tuple(audience(p) for p in VENDORS))
    for profile in VENDORS:
        seen.append(json.dumps(issued(client, app_backend, profile)))
    with app.app_context():
        rows = db.session.execute(text("SELECT * FROM audit_events")).all()
    assert any("backend.update" in str(row) for row in rows)
    seen.append("\n".join(str(tuple(row)) for row in rows))
    seen.append(client.get("/admin/realms/default/audit", headers=headers).get_data(as_text=True))
    seen.append(caplog.text + "\n".join(str(r.args) for r in caplog.records))

    assert _leaks("\n".join(seen)) == []


def test_matrix_show_gives_the_public_key_and_jwt_config_but_no_private_key(app, runner):
    cli(runner, "backends", "create", "--realm", "default", "--audience", "synapse", "--profile", "matrix",
        "--credential", json.dumps({"audience": "synapse", "server_name": "chat.example.com"}))
    shown = cli(runner, "backends", "show", "--realm", "default", "synapse")
    info = shown["profile_info"]
    assert info["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert "jwt_config:" in info["jwt_config"] and "- \"synapse\"" in info["jwt_config"]
    assert "PRIVATE" not in json.dumps(shown) and "credential" not in shown
    as_text = runner.invoke(main, ["backends", "show", "--realm", "default", "synapse"]).output
    assert "jwt_config: |\n  jwt_config:\n    enabled: true\n" in as_text
    assert "PRIVATE" not in as_text


# --- matrix key rotation --------------------------------------------------------------


def _matrix_claims(client, app_backend, info: dict, aud: str) -> dict:
    token = issued_for(client, app_backend, aud)
    return pyjwt.decode(token, info["public_key"], algorithms=["ES256"], audience="synapse",
                        options={"verify_iss": False})


def issued_for(client, app_backend, aud: str) -> str:
    form = app_backend.exchange_form(app_backend.assertion(sub="alice"), audience=aud)
    response = client.post(TOKEN_URL, data=form)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]


def test_matrix_rotate_key_keeps_the_settings_and_signs_with_the_new_key(app, client, runner):
    settings = {"audience": "synapse", "server_name": "chat.example.com", "issuer": "https://auth.example.com"}
    before = cli(runner, "backends", "create", "--realm", "default", "--audience", "synapse",
                 "--scopes", "chat:read chat:write", "--default-scopes", "chat:read", "--profile", "matrix",
                 "--credential", json.dumps(settings))["profile_info"]
    app_backend = AppBackend(app, audiences=("synapse",))
    assert _matrix_claims(client, app_backend, before, "synapse")["sub"] == "alice"

    after = cli(runner, "backends", "update", "--realm", "default", "synapse", "--rotate-key")["profile_info"]
    assert after["public_key"] != before["public_key"]
    assert after["jwt_config"] == before["jwt_config"].replace(
        _pem_body(before["public_key"]), _pem_body(after["public_key"]))  # only the key changed
    token = issued_for(client, app_backend, "synapse")
    assert pyjwt.decode(token, after["public_key"], algorithms=["ES256"], audience="synapse",
                        issuer="https://auth.example.com")["sub"] == "alice"
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token, before["public_key"], algorithms=["ES256"], audience="synapse")


def _pem_body(pem: str) -> str:
    return "\n    ".join(pem.strip().splitlines()[1:-1])


def test_matrix_empty_credential_changes_nothing_rotate_key_makes_a_new_one(app, client, runner):
    before = cli(runner, "backends", "create", "--realm", "default", "--audience", "synapse",
                 "--profile", "matrix")["profile_info"]
    same = cli(runner, "backends", "update", "--realm", "default", "synapse", "--profile", "matrix",
               "--credential", "{}")["profile_info"]  # a merge patch naming nothing
    assert same["public_key"] == before["public_key"]
    after = cli(runner, "backends", "update", "--realm", "default", "synapse", "--rotate-key")["profile_info"]
    assert after["public_key"] != before["public_key"]


def test_rotate_key_is_refused_where_the_server_makes_no_key(app, runner, client):
    make_backend(app, audience=audience("stream"), profile="stream", credential=CASES["stream"].credential)
    line = cli_error(runner, "backends", "update", "--realm", "default", audience("stream"), "--rotate-key")
    assert line.endswith("rotate_key: the stream profile has no server-generated key")
    response = client.patch(f"/admin/realms/default/backends/{audience('stream')}",
                            json={"rotate_key": "yes"}, headers=bearer(admin_token(runner, client)))
    assert response.status_code == 400 and "rotate_key" in response.get_json()["error_description"]


def test_cli_reads_the_credential_from_stdin(runner):
    result = runner.invoke(main, ["backends", "create", "--realm", "default", "--audience", "s",
                                  "--profile", "stream", "--credential", "@-", "--json"],
                           input=json.dumps(CASES["stream"].credential))
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["credential_set"] is True and shown["profile_info"] == {"api_key": "mmhfdzb5evj2"}
    assert STREAM_SECRET not in result.output
