"""oauth2_userinfo connector: opaque access tokens checked at a profile endpoint."""

from __future__ import annotations

import pytest

from authserver.plugin_api import (
    TOKEN_TYPE_ACCESS_TOKEN,
    TOKEN_TYPE_ID_TOKEN,
    InvalidSubjectToken,
    PluginConfigError,
    UpstreamUnavailable,
    VerificationRequest,
)
from authserver.plugin_testing.connectors import down, respond
from authserver_plugins.connectors.userinfo import UserinfoConnector

URL = "https://api.github.example/user"
REQUEST = VerificationRequest(issuer="https://auth.example/realms/default", client_id="web")
GITHUB = {"id": 583231, "login": "octocat", "name": "The Octocat", "email": None,
          "avatar_url": "https://avatars.example/u/583231"}


def connect(context, **config) -> UserinfoConnector:
    return UserinfoConnector({"userinfo_url": URL, **config}, context)


def verify(connector: UserinfoConnector, token: str = "gho_abc123"):
    return connector.verify(token, TOKEN_TYPE_ACCESS_TOKEN, REQUEST)


def test_github_style_profile(context, http):
    http.routes[URL] = respond(GITHUB)
    connector = connect(context, subject_claim="id",
                        claim_mapping={"preferred_username": "login", "picture": "avatar_url"})
    identity = verify(connector)
    assert identity.subject == "583231"
    assert identity.claims["preferred_username"] == "octocat"
    assert identity.claims["picture"] == "https://avatars.example/u/583231"
    assert identity.claims["name"] == "The Octocat"
    assert "email" not in identity.claims
    assert http.calls == [("GET", URL, {"Authorization": "Bearer gho_abc123",
                                        "Accept": "application/json"})]


def test_oidc_style_userinfo(context, http):
    http.routes[URL] = respond({"sub": "abc", "email": "ada@example.com", "email_verified": "false"})
    identity = verify(connect(context))
    assert identity.subject == "abc"
    assert identity.claims["email_verified"] is False


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_token(context, http, status):
    http.routes[URL] = respond({"message": "Bad credentials"}, status=status)
    with pytest.raises(InvalidSubjectToken) as caught:
        verify(connect(context))
    assert "Bad credentials" not in caught.value.description


@pytest.mark.parametrize("answer", [
    respond({"message": "boom"}, status=500),
    respond({"message": "bad gateway"}, status=502),
    respond({"message": "moved"}, status=404),
    respond(b"<html>oops</html>"),
    respond(["a list"]),
    respond({"login": "no-subject"}),
    respond({"sub": True}),
    respond({"sub": ""}),
])
def test_upstream_failures(context, http, answer):
    http.routes[URL] = answer
    with pytest.raises(UpstreamUnavailable):
        verify(connect(context))


def test_upstream_unreachable(context, http):
    http.routes[URL] = down()
    with pytest.raises(UpstreamUnavailable):
        verify(connect(context))


@pytest.mark.parametrize("token", ["abc\r\nX-Injected: 1", "two words", "tök"])
def test_token_outside_b64token_never_sent(context, http, token):
    with pytest.raises(InvalidSubjectToken):
        verify(connect(context), token)
    assert http.calls == []


def test_id_token_type_refused(context, http):
    with pytest.raises(InvalidSubjectToken):
        connect(context).verify("gho_abc123", TOKEN_TYPE_ID_TOKEN, REQUEST)
    assert http.calls == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/userinfo", "http://localhost/me",
                                 "http://[::1]:9000/me", "https://api.example/user"])
def test_loopback_http_allowed(url):
    assert UserinfoConnector.validate_config({"userinfo_url": url})["userinfo_url"] == url


@pytest.mark.parametrize("url", ["http://api.example/user", "http://127.0.0.1.evil.example/",
                                 "/relative", "https:///nohost", 42])
def test_bad_urls_refused(url):
    with pytest.raises(PluginConfigError) as caught:
        UserinfoConnector.validate_config({"userinfo_url": url})
    assert caught.value.key == "userinfo_url"


def test_defaults():
    assert UserinfoConnector.validate_config({"userinfo_url": URL}) == {
        "userinfo_url": URL, "subject_claim": "sub", "claim_mapping": {}}
