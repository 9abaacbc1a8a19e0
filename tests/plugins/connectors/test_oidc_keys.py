"""OIDC connector: discovery and JWKS caching, rotation, and an IdP that is down or broken."""

from __future__ import annotations

import threading
import time

import pytest

from authserver.plugin_api import (
    TOKEN_TYPE_ID_TOKEN,
    InvalidSubjectToken,
    UpstreamUnavailable,
    VerificationRequest,
)
from authserver.plugin_testing.connectors import FakeProvider, down, ec_key, jwks, respond, sign
from authserver_plugins.connectors._cache import CachedDocument, parse_jwks
from authserver_plugins.connectors.oidc import OIDCConnector

REQUEST = VerificationRequest(issuer="https://auth.example/realms/default", client_id="web")


@pytest.fixture
def connector(provider, context) -> OIDCConnector:
    return OIDCConnector({"issuer": provider.issuer, "client_ids": [provider.client_id]}, context)


def verify(connector: OIDCConnector, token: str):
    return connector.verify(token, TOKEN_TYPE_ID_TOKEN, REQUEST)


def test_unknown_kid_refetches_at_most_once_per_cooldown(provider, connector, clock):
    verify(connector, provider.id_token())
    stranger = sign(provider.claims(), ec_key("unpublished"))
    with pytest.raises(InvalidSubjectToken):
        verify(connector, stranger)
    assert provider.jwks_fetches() == 1  # the first fetch is younger than the cool-down
    clock.advance(CachedDocument.COOLDOWN)
    with pytest.raises(InvalidSubjectToken):
        verify(connector, stranger)
    with pytest.raises(InvalidSubjectToken):
        verify(connector, stranger)
    assert provider.jwks_fetches() == 2


def test_rotation_new_kid_is_fetched(provider, connector, clock):
    verify(connector, provider.id_token())
    clock.advance(CachedDocument.COOLDOWN + 1)
    provider.publish(provider.key, ec_key("idp-2"))
    assert verify(connector, provider.id_token(key=ec_key("idp-2"))).subject == "user-42"
    assert provider.jwks_fetches() == 2


def test_cache_control_max_age_is_honoured(provider, connector, clock):
    provider.publish(provider.key, headers={"Cache-Control": "public, max-age=3600"})
    verify(connector, provider.id_token())
    clock.advance(3599)
    verify(connector, provider.id_token())
    assert provider.jwks_fetches() == 1
    clock.advance(2)
    verify(connector, provider.id_token())
    assert provider.jwks_fetches() == 2


def test_default_ttl_without_cache_control(provider, connector, clock):
    verify(connector, provider.id_token())
    clock.advance(CachedDocument.DEFAULT_TTL - 1)
    verify(connector, provider.id_token())
    assert provider.jwks_fetches() == 1
    clock.advance(2)
    verify(connector, provider.id_token())
    assert provider.jwks_fetches() == 2


@pytest.mark.parametrize("value, ttl", [
    ("max-age=5", 60), ("max-age=999999999", 86400), ("no-store", 60), ("no-cache, max-age=600", 60),
    ("private, max-age=120", 120), ('max-age="300"', 300), ("", 600), ("s-maxage=5", 600),
])
def test_ttl_is_clamped(value, ttl):
    assert CachedDocument.ttl({"cache-control": value}) == ttl


def test_idp_down_with_cached_keys_still_verifies(provider, connector, clock, http):
    verify(connector, provider.id_token())
    clock.advance(CachedDocument.MAX_TTL + 1)
    http.routes[provider.discovery_url] = down()
    http.routes[provider.jwks_url] = down()
    assert verify(connector, provider.id_token()).subject == "user-42"
    calls = len(http.calls)
    verify(connector, provider.id_token())  # within the retry cool-down: no new attempt
    assert len(http.calls) == calls


def test_idp_down_without_cached_keys(provider, connector, http, clock):
    http.routes[provider.discovery_url] = down()
    with pytest.raises(UpstreamUnavailable):
        verify(connector, provider.id_token())
    clock.advance(CachedDocument.EMPTY_RETRY)
    http.routes[provider.discovery_url] = respond({"error": "overloaded"}, status=503)
    with pytest.raises(UpstreamUnavailable):
        verify(connector, provider.id_token())


def test_recovers_once_the_idp_is_back(provider, connector, http, clock):
    http.routes[provider.jwks_url] = down()
    with pytest.raises(UpstreamUnavailable):
        verify(connector, provider.id_token())
    provider.publish(provider.key)
    clock.advance(CachedDocument.EMPTY_RETRY)
    assert verify(connector, provider.id_token()).subject == "user-42"


@pytest.mark.parametrize("garbage", [
    respond(b"<html>maintenance</html>"),
    respond({"keys": []}),
    respond({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}),
    respond({"keys": [{"kty": "RSA", "n": "broken", "e": "AQAB"}]}),
    respond({"nokeys": True}),
    respond(["not", "an", "object"]),
    respond(jwks(ec_key("idp-2")), status=500),
])
def test_garbage_jwks_keeps_the_last_good_set(provider, connector, http, clock, garbage):
    verify(connector, provider.id_token())
    clock.advance(CachedDocument.MAX_TTL + 1)
    http.routes[provider.jwks_url] = garbage
    assert verify(connector, provider.id_token()).subject == "user-42"
    assert provider.jwks_fetches() == 2


def test_discovery_for_another_issuer_is_refused(provider, connector):
    provider.serve_discovery(issuer="https://evil.example")
    with pytest.raises(UpstreamUnavailable):
        verify(connector, provider.id_token())


def test_discovery_with_plain_http_jwks_uri_is_refused(provider, connector):
    provider.serve_discovery(jwks_uri="http://idp.example/jwks")
    with pytest.raises(UpstreamUnavailable):
        verify(connector, provider.id_token())


def test_concurrent_requests_share_one_fetch(provider, connector, http):
    published = http.routes[provider.jwks_url]

    def slow(headers):
        time.sleep(0.05)
        return published

    http.routes[provider.jwks_url] = slow
    token = provider.id_token()
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(verify(connector, token).subject))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == ["user-42"] * 8
    assert provider.jwks_fetches() == 1


def test_parse_jwks_skips_unusable_keys_and_private_parts():
    private = ec_key("signing").as_dict(private=True)
    keys = parse_jwks({"keys": [
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
        {**ec_key("encryption").as_dict(private=False), "use": "enc"},
        {"kty": "PQ", "kid": "future"},
        "nonsense",
        private,
    ]})
    assert [key.kid for key in keys] == ["signing"]
    assert not keys.keys[0].is_private


def test_jwks_other_provider_key_not_trusted(http, clock, context):
    provider = FakeProvider(http, clock)
    other = FakeProvider(http, clock, issuer="https://other.example", key=ec_key("other-1"))
    connector = OIDCConnector({"issuer": provider.issuer, "client_ids": ["chat-app"]}, context)
    forged = sign(provider.claims(), other.key)
    with pytest.raises(InvalidSubjectToken):
        verify(connector, forged)
