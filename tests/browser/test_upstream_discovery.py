"""The ``browser_login`` capability of the oidc connector: the upstream's endpoints from its
discovery document (OIDC Discovery §3), required for the browser login and optional for the
token exchange, which keeps working without them."""

from __future__ import annotations

import pytest

from authserver.plugin_api import TOKEN_TYPE_ID_TOKEN, BrowserEndpoints, UpstreamUnavailable, VerificationRequest
from authserver.plugin_testing.connectors.fakes import (
    FakeClock,
    FakeHttp,
    down,
    ec_key,
    jwks,
    make_context,
    respond,
    sign,
)
from authserver_plugins.connectors.oidc import OIDCConnector
from authserver_plugins.connectors.userinfo import UserinfoConnector

ISSUER = "https://idp.example.test"
KEY = ec_key("k1")


def connector(document: dict | Exception, issuer: str = ISSUER) -> tuple[OIDCConnector, FakeHttp, FakeClock]:
    http, clock = FakeHttp(), FakeClock()
    http.routes[f"{issuer}/.well-known/openid-configuration"] = (
        document if isinstance(document, Exception) else respond(document))
    http.routes[f"{issuer}/jwks"] = respond(jwks(KEY))
    return OIDCConnector({"issuer": issuer, "client_ids": ["authserver"]}, make_context(http, clock)), http, clock


def document(issuer: str = ISSUER, **extra) -> dict:
    return {"issuer": issuer, "jwks_uri": f"{issuer}/jwks", **extra}


def test_the_endpoints_come_from_discovery():
    oidc, _http, _clock = connector(document(
        authorization_endpoint=f"{ISSUER}/auth", token_endpoint=f"{ISSUER}/token",
        end_session_endpoint=f"{ISSUER}/logout", authorization_response_iss_parameter_supported=True))
    assert OIDCConnector.browser_login is True
    assert oidc.browser_endpoints() == BrowserEndpoints(
        issuer=ISSUER, authorization_endpoint=f"{ISSUER}/auth", token_endpoint=f"{ISSUER}/token",
        iss_parameter_supported=True, end_session_endpoint=f"{ISSUER}/logout")


def test_loopback_http_is_allowed_and_iss_support_defaults_to_false():
    issuer = "http://127.0.0.1:4000"
    oidc, _http, _clock = connector(document(issuer, authorization_endpoint=f"{issuer}/auth",
                                             token_endpoint=f"{issuer}/token"), issuer)
    endpoints = oidc.browser_endpoints()
    assert endpoints.authorization_endpoint == f"{issuer}/auth" and endpoints.iss_parameter_supported is False
    assert endpoints.end_session_endpoint is None


@pytest.mark.parametrize("extra", [
    {},  # an exchange-only provider
    {"token_endpoint": f"{ISSUER}/token"},
    {"authorization_endpoint": f"{ISSUER}/auth"},
    {"authorization_endpoint": "http://idp.example.test/auth", "token_endpoint": f"{ISSUER}/token"},
    {"authorization_endpoint": f"{ISSUER}/auth", "token_endpoint": "ftp://idp.example.test/token"},
    {"authorization_endpoint": f"{ISSUER}/auth#frag", "token_endpoint": f"{ISSUER}/token"},
    {"authorization_endpoint": 42, "token_endpoint": f"{ISSUER}/token"},
])
def test_a_document_without_usable_endpoints_serves_the_exchange_only(extra):
    oidc, _http, clock = connector(document(**extra))
    with pytest.raises(UpstreamUnavailable, match="authorization or token endpoint"):
        oidc.browser_endpoints()
    token = sign({"iss": ISSUER, "sub": "alice", "aud": "authserver", "iat": int(clock()),
                  "exp": int(clock()) + 300}, KEY)
    identity = oidc.verify(token, TOKEN_TYPE_ID_TOKEN, VerificationRequest(issuer="https://auth.test",
                                                                             client_id="web-app"))
    assert identity.subject == "alice"


def test_a_bad_end_session_endpoint_is_left_out():
    oidc, _http, _clock = connector(document(authorization_endpoint=f"{ISSUER}/auth",
                                             token_endpoint=f"{ISSUER}/token",
                                             end_session_endpoint="http://idp.example.test/logout"))
    assert oidc.browser_endpoints().end_session_endpoint is None


def test_an_unreachable_provider_is_unavailable():
    oidc, _http, _clock = connector(down())
    with pytest.raises(UpstreamUnavailable):
        oidc.browser_endpoints()


def test_other_connectors_do_not_run_a_browser_login():
    assert UserinfoConnector.browser_login is False
    http, clock = FakeHttp(), FakeClock()
    userinfo = UserinfoConnector({"userinfo_url": "https://api.example.test/me"}, make_context(http, clock))
    with pytest.raises(NotImplementedError):
        userinfo.browser_endpoints()
