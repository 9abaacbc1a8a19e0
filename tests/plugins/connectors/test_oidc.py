"""OIDC connector: ID token validation (OIDC Core §3.1.3.7) and the refusals."""

from __future__ import annotations

import warnings

import pytest
from joserfc.jwk import OKPKey

from authserver.plugin_api import (
    TOKEN_TYPE_ACCESS_TOKEN,
    TOKEN_TYPE_ID_TOKEN,
    InvalidSubjectToken,
    UpstreamUnavailable,
    VerificationRequest,
)
from authserver.plugin_testing.connectors import (
    FakeProvider,
    down,
    ec_key,
    hmac_with_public_key,
    make_context,
    oversized,
    respond,
    rsa_key,
    sign,
    tamper,
    unsigned,
)
from authserver_plugins.connectors.oidc import OIDCConnector

REQUEST = VerificationRequest(issuer="https://auth.example/realms/default", client_id="web")


def connect(provider: FakeProvider, context, **config) -> OIDCConnector:
    return OIDCConnector({"issuer": provider.issuer, "client_ids": [provider.client_id], **config},
                         context)


def verify(connector: OIDCConnector, token: str, token_type: str = TOKEN_TYPE_ID_TOKEN):
    return connector.verify(token, token_type, REQUEST)


def refused(connector: OIDCConnector, token: str) -> InvalidSubjectToken:
    with pytest.raises(InvalidSubjectToken) as caught:
        verify(connector, token)
    return caught.value


def test_valid_id_token(provider, context, clock):
    identity = verify(connect(provider, context), provider.id_token(email_verified="true"))
    assert identity.subject == "user-42"
    assert identity.claims["email"] == "ada@example.com"
    assert identity.claims["email_verified"] is True
    assert identity.claims["name"] == "Ada Lovelace"
    assert identity.expires_at == int(clock()) + 600


def test_discovery_and_jwks_fetched_once(provider, context, http):
    connector = connect(provider, context)
    for _ in range(3):
        verify(connector, provider.id_token())
    assert http.urls() == [provider.discovery_url, provider.jwks_url]


@pytest.mark.parametrize("overrides, reason", [
    ({"iss": "https://evil.example"}, "'iss'"),
    ({"iss": "https://idp.example/"}, "'iss'"),
    ({"aud": "another-app"}, "'aud'"),
    ({"aud": ["another-app", "third-app"], "azp": "another-app"}, "'aud'"),
    ({"aud": ["chat-app", "another-app"]}, "not our client ids"),
    ({"aud": ["chat-app", "another-app"], "azp": "chat-app"}, "not our client ids"),
    ({"azp": "another-app"}, "azp 'another-app'"),
    ({"sub": ""}, "'sub'"),
    ({"sub": "  "}, "sub is blank"),
    ({"sub": None}, "'sub'"),
    ({"exp": None}, "'exp'"),
    ({"iat": None}, "'iat'"),
])
def test_claim_refusals(provider, context, overrides, reason):
    assert reason in refused(connect(provider, context), provider.id_token(**overrides)).detail


def test_an_audience_not_ours_is_refused_whatever_azp_says(provider, context):
    """OIDC Core §3.1.3.7 item 3: the token is meant for someone else too; ``azp`` being ours
    does not make the other audience trusted."""
    token = provider.id_token(aud=["chat-app", "someone-else"], azp="chat-app")
    error = refused(connect(provider, context), token)
    assert "someone-else" in error.detail


def test_several_audiences_all_ours_need_azp(provider, context):
    connector = connect(provider, context, client_ids=["chat-app", "chat-app-web"])
    both = ["chat-app", "chat-app-web"]
    assert verify(connector, provider.id_token(aud=both, azp="chat-app-web")).subject == "user-42"
    assert "no azp" in refused(connector, provider.id_token(aud=both)).detail


@pytest.mark.parametrize("claim, workspace", [("acme", "acme"), (None, None), (42, None), ("  ", None),
                                              ({"id": "acme"}, None)])
def test_workspace_claim(provider, context, claim, workspace):
    assert verify(connect(provider, context), provider.id_token(workspace=claim)).workspace == workspace


def test_id_tokens_are_reusable(provider, context):
    assert verify(connect(provider, context), provider.id_token()).single_use_id is None


def test_exp_nbf_iat_honour_clock_skew(provider, context, clock):
    now = int(clock())
    connector = connect(provider, context)
    verify(connector, provider.id_token(iat=now - 700, exp=now - 30))
    verify(connector, provider.id_token(nbf=now + 30))
    expired = refused(connector, provider.id_token(iat=now - 700, exp=now - 61))
    assert expired.description == "the subject token has expired"
    refused(connector, provider.id_token(nbf=now + 120))
    refused(connector, provider.id_token(iat=now + 120, exp=now + 600))


def test_tampered_and_foreign_signed(provider, context):
    connector = connect(provider, context)
    assert "BadSignature" in refused(connector, tamper(provider.id_token())).detail
    impostor = sign(provider.claims(), ec_key("impostor"), kid=provider.key.kid)
    assert "BadSignature" in refused(connector, impostor).detail
    assert "no ES256 key" in refused(connector, sign(provider.claims(), ec_key("impostor"))).detail


def test_alg_none_refused(provider, context):
    error = refused(connect(provider, context), unsigned(provider.claims(), kid=provider.key.kid))
    assert "none" in error.detail


def test_hmac_with_public_key_refused(http, clock, context):
    provider = FakeProvider(http, clock, key=rsa_key("idp-rsa"))
    connector = connect(provider, context)
    assert verify(connector, provider.id_token(alg="RS256")).subject == "user-42"
    error = refused(connector, hmac_with_public_key(provider.claims(), provider.key))
    assert "HS256" in error.detail


def test_algorithm_outside_configured_allow_list(http, clock, context):
    provider = FakeProvider(http, clock, key=rsa_key("idp-rsa"))
    refused(connect(provider, context, algorithms=["ES256"]), provider.id_token(alg="RS256"))


def test_eddsa_accepted_without_warning(http, clock, context):
    provider = FakeProvider(http, clock, key=OKPKey.generate_key("Ed25519", {"kid": "ed"}))
    token = sign(provider.claims(), provider.key, "EdDSA")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert verify(connect(provider, context), token).subject == "user-42"


def test_rfc9068_access_token_not_accepted_as_id_token(provider, context):
    token = sign(provider.claims(), provider.key, typ="at+jwt")
    refused(connect(provider, context), token)


def test_kid_may_be_omitted_only_with_a_single_key(provider, context):
    connector = connect(provider, context)
    assert verify(connector, sign(provider.claims(), provider.key, kid=None)).subject == "user-42"
    provider.publish(provider.key, ec_key("idp-2"))
    connector = connect(provider, context)
    refused(connector, sign(provider.claims(), provider.key, kid=None))


def test_oversized_refused(provider, context, http):
    refused(connect(provider, context), oversized(provider.id_token(), context.max_token_bytes))
    assert http.calls == []


def test_size_limit_from_the_context(provider, http, clock):
    token = provider.id_token()
    small = make_context(http, clock, max_token_bytes=len(token) - 1)
    refused(connect(provider, small), token)
    assert http.calls == []
    assert verify(connect(provider, make_context(http, clock, max_token_bytes=len(token))), token)


def test_access_tokens_refused_unless_enabled(provider, context, http):
    with pytest.raises(InvalidSubjectToken):
        verify(connect(provider, context), "opaque-token", TOKEN_TYPE_ACCESS_TOKEN)
    assert http.calls == []


def test_access_token_checked_at_userinfo(provider, context, http):
    http.routes[provider.userinfo_url] = respond({"sub": "user-42", "email": "ada@example.com"})
    identity = verify(connect(provider, context, userinfo=True), "opaque-token", TOKEN_TYPE_ACCESS_TOKEN)
    assert identity.subject == "user-42"
    assert identity.claims["email"] == "ada@example.com"
    assert http.calls[-1] == ("GET", provider.userinfo_url, {
        "Authorization": "Bearer opaque-token", "Accept": "application/json"})


@pytest.mark.parametrize("status, error", [(401, InvalidSubjectToken), (403, InvalidSubjectToken),
                                           (500, UpstreamUnavailable), (503, UpstreamUnavailable)])
def test_userinfo_failures(provider, context, http, status, error):
    http.routes[provider.userinfo_url] = respond({"error": "x"}, status=status)
    with pytest.raises(error):
        verify(connect(provider, context, userinfo=True), "opaque-token", TOKEN_TYPE_ACCESS_TOKEN)


def test_userinfo_unreachable(provider, context, http):
    http.routes[provider.userinfo_url] = down()
    with pytest.raises(UpstreamUnavailable):
        verify(connect(provider, context, userinfo=True), "opaque-token", TOKEN_TYPE_ACCESS_TOKEN)


def test_client_id_alias_and_config_normalization():
    config = OIDCConnector.validate_config({"issuer": "https://idp.example", "client_id": "a"})
    assert config == {"issuer": "https://idp.example", "client_ids": ["a"],
                      "algorithms": ("RS256", "ES256", "PS256", "EdDSA"), "userinfo": False}


# --- "test connection" (Connector.probe) -----------------------------------------------


def test_probe_reports_discovery_and_the_keys_found(provider, context, http):
    connector = connect(provider, context)
    connector.verify(provider.id_token(), TOKEN_TYPE_ID_TOKEN, REQUEST)  # caches filled
    before = len(http.calls)
    discovery, keys = connector.probe()
    assert (discovery.what, discovery.ok) == ("discovery", True) and provider.jwks_url in discovery.detail
    assert (keys.what, keys.ok) == ("jwks", True) and "idp-1 (EC P-256)" in keys.detail
    assert http.urls()[before:] == [provider.discovery_url, provider.jwks_url]  # fetched now, not cached


@pytest.mark.parametrize("broken", ["discovery down", "discovery 500", "wrong issuer", "not json"])
def test_probe_names_a_discovery_failure(provider, context, http, broken):
    http.routes[provider.discovery_url] = {
        "discovery down": down(), "discovery 500": respond({"error": "x"}, status=500),
        "wrong issuer": respond({"issuer": "https://other.example", "jwks_uri": provider.jwks_url}),
        "not json": respond(b"<html>"),
    }[broken]
    findings = connect(provider, context).probe()
    assert [(f.what, f.ok) for f in findings] == [("discovery", False)]
    assert findings[0].detail.startswith(provider.discovery_url)


@pytest.mark.parametrize("broken", ["jwks down", "jwks 404", "no usable key", "only other algorithms"])
def test_probe_names_a_jwks_failure(provider, context, http, broken):
    if broken == "jwks down":
        http.routes[provider.jwks_url] = down()
    elif broken == "jwks 404":
        http.routes[provider.jwks_url] = respond({"error": "x"}, status=404)
    elif broken == "no usable key":
        http.routes[provider.jwks_url] = respond({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]})
    else:
        provider.publish(rsa_key("rsa-only"))
    findings = connect(provider, context, **({"algorithms": ["ES256"]} if broken.startswith("only") else {})).probe()
    assert [(f.what, f.ok) for f in findings] == [("discovery", True), ("jwks", False)], findings
    if broken.startswith("only"):
        assert "none for the allowed algorithms" in findings[1].detail
