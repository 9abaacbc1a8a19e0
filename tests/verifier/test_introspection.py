"""RFC 7662 introspection against the fake issuer's endpoint."""

from __future__ import annotations

import pytest

from authserver_verifier import UpstreamError, Verifier
from authserver_verifier.introspection import basic_authorization

from .conftest import AUDIENCE, INTROSPECTION_CLIENT

ENDPOINT = "/realms/default/introspect"
CLIENT = {"client_id": INTROSPECTION_CLIENT[0], "client_secret": INTROSPECTION_CLIENT[1]}


def test_active_token(issuer, verifier):
    token = issuer.sign()
    issuer.active_tokens.add(token)
    result = verifier.introspect(token, **CLIENT)
    assert result["active"] is True and result["sub"] == "alice"
    assert verifier.is_active(token, **CLIENT)


def test_revoked_token_is_inactive(issuer, verifier):
    token = issuer.sign()
    assert verifier.verify(token)  # still valid offline...
    assert verifier.introspect(token, **CLIENT) == {"active": False}  # ...but not online
    assert verifier.is_active(token, **CLIENT) is False


def test_nothing_is_cached(issuer, verifier):
    token = issuer.sign()
    issuer.active_tokens.add(token)
    assert verifier.is_active(token, **CLIENT)
    issuer.active_tokens.clear()
    assert not verifier.is_active(token, **CLIENT)
    assert issuer.hits[ENDPOINT] == 2


def test_client_secret_basic_is_form_encoded():
    expected = "Basic " + __import__("base64").b64encode(b"a%3Ab:s%20c%2B").decode()
    assert basic_authorization("a:b", "s c+") == expected


def test_bad_client_credentials(issuer, verifier, session):
    with pytest.raises(UpstreamError) as caught:
        verifier.introspect(issuer.sign(), client_id="chat-api", client_secret="wrong")
    assert caught.value.reason == "introspection_failed"
    post = [call for call in session.calls if call["method"] == "POST"][0]
    assert post["timeout"] and post["allow_redirects"] is False


def test_non_boolean_active_is_false(issuer, verifier, monkeypatch):
    monkeypatch.setattr(issuer, "introspection", lambda *_: (200, {"active": "true"}))
    assert verifier.introspect(issuer.sign(), **CLIENT)["active"] is False


def test_no_introspection_endpoint(issuer, clock, session, monkeypatch):
    original = issuer._discovery
    monkeypatch.setattr(issuer, "_discovery", lambda: {**original(), "introspection_endpoint": None})
    verifier = Verifier(issuer.issuer, AUDIENCE, clock=clock, session=session)
    with pytest.raises(UpstreamError, match="no_introspection_endpoint"):
        verifier.introspect("x", **CLIENT)


def test_issuer_down(issuer, verifier):
    verifier.verify(issuer.sign())
    issuer.stop()
    with pytest.raises(UpstreamError, match="introspection_failed"):
        verifier.introspect("x", **CLIENT)
