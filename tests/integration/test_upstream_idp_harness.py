"""The upstream IdP harness: a real oidc-provider on loopback, driven over HTTP."""

import jwt
import pytest

from tests.support import upstream_idp as upstream_idp_module
from tests.support.upstream_idp import UpstreamIdP, UpstreamIdPError

ALGORITHMS = ["RS256", "ES256"]


@pytest.fixture(scope="module")
def idp():
    with UpstreamIdP() as provider:
        yield provider


def verify_id_token(provider, id_token, audience):
    signing_key = jwt.PyJWKClient(provider.jwks_uri).get_signing_key_from_jwt(id_token)
    return jwt.decode(
        id_token,
        signing_key.key,
        algorithms=ALGORITHMS,
        audience=audience,
        issuer=provider.issuer,
    )


@pytest.mark.integration
def test_login_yields_an_id_token_that_verifies_against_the_jwks(idp):
    tokens = idp.login("alice", nonce="n-0S6_WzA2Mj")

    claims = verify_id_token(idp, tokens["id_token"], "chat-web")

    assert claims["sub"] == "alice"
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["email"] == "alice@example.test"
    assert claims["email_verified"] is True
    assert (claims["given_name"], claims["family_name"]) == ("Alice", "Example")
    assert tokens["token_type"].lower() == "bearer"


@pytest.mark.integration
def test_access_token_works_at_userinfo(idp):
    tokens = idp.login("bob.smith")

    info = idp.userinfo(tokens["access_token"])

    assert info["sub"] == "bob.smith"
    assert info["email"] == "bob.smith@example.test"
    assert info["name"] == "Bob Smith"
    assert info["preferred_username"] == "bob.smith"


@pytest.mark.integration
def test_each_client_gets_its_own_audience(idp):
    tokens = idp.login("alice", client_id="other-app")

    claims = verify_id_token(idp, tokens["id_token"], "other-app")

    assert claims["aud"] == "other-app"
    with pytest.raises(jwt.InvalidAudienceError):
        verify_id_token(idp, tokens["id_token"], "chat-web")


@pytest.mark.integration
def test_account_claims_can_be_overridden(idp):
    idp.set_account("carol", email_verified=False, email="carol@corp.example")

    claims = verify_id_token(idp, idp.login("carol")["id_token"], "chat-web")

    assert (claims["email"], claims["email_verified"]) == ("carol@corp.example", False)


@pytest.mark.integration
def test_rotated_keys_sign_new_id_tokens(idp):
    old_kid = jwt.get_unverified_header(idp.login("alice")["id_token"])["kid"]

    kids = idp.rotate_keys()
    new_token = idp.login("alice")["id_token"]

    new_kid = jwt.get_unverified_header(new_token)["kid"]
    published = {key["kid"] for key in idp.jwks()["keys"]}
    assert new_kid != old_kid
    assert new_kid in published and new_kid in kids
    assert old_kid not in published
    assert verify_id_token(idp, new_token, "chat-web")["sub"] == "alice"


@pytest.mark.integration
def test_graceful_rotation_keeps_old_keys_published(idp):
    old_token = idp.login("alice")["id_token"]
    old_kid = jwt.get_unverified_header(old_token)["kid"]

    idp.rotate_keys(keep_previous=True)

    new_kid = jwt.get_unverified_header(idp.login("alice")["id_token"])["kid"]
    assert new_kid != old_kid
    assert {old_kid, new_kid} <= {key["kid"] for key in idp.jwks()["keys"]}
    assert verify_id_token(idp, old_token, "chat-web")["sub"] == "alice"


@pytest.mark.integration
def test_stop_then_restart_keeps_port_and_keys():
    with UpstreamIdP() as provider:
        issuer, kids = provider.issuer, provider.jwks()
        token = provider.login("alice")["id_token"]

        provider.stop()
        assert not provider.running
        provider.restart()

        assert provider.issuer == issuer
        assert provider.jwks() == kids
        assert verify_id_token(provider, token, "chat-web")["sub"] == "alice"
        assert provider.login("alice")["id_token"]


def test_missing_node_modules_names_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setattr(upstream_idp_module, "PROVIDER_DIR", tmp_path)

    with pytest.raises(
        UpstreamIdPError, match="npm ci --prefix tests/support/oidc_provider"
    ):
        UpstreamIdP().start()
