"""Discovery and the RFC 7517 JWKS cache: Cache-Control, unknown-kid refetch, outages, rotation."""

from __future__ import annotations

import threading

import pytest
from joserfc.jwk import OctKey
from joserfc.jws import JWSRegistry

from authserver_verifier import TokenError, UpstreamError, Verifier
from authserver_verifier.jwks import KeyCache, freshness, parse_key_set

from .conftest import AUDIENCE, b64, new_key, refused, segment

JWKS = "/realms/default/jwks"
DISCOVERY = "/realms/default/.well-known/openid-configuration"


def test_discovery_then_jwks_once(issuer, verifier):
    for _ in range(3):
        verifier.verify(issuer.sign())
    assert issuer.hits[DISCOVERY] == 1 and issuer.hits[JWKS] == 1


def test_every_request_has_a_timeout(issuer, verifier, session):
    verifier.verify(issuer.sign())
    assert session.calls and all(call.get("timeout") for call in session.calls)


def test_timeout_is_mandatory(issuer):
    with pytest.raises(ValueError):
        Verifier(issuer.issuer, AUDIENCE, timeout=None)


def test_discovery_issuer_mismatch(issuer, verifier):
    issuer.discovery_issuer = issuer.issuer + "/"
    with pytest.raises(UpstreamError) as caught:
        verifier.verify(issuer.sign())
    assert caught.value.reason == "issuer_mismatch"
    assert issuer.hits[JWKS] == 0


def test_discovery_mismatch_is_not_retried_at_once(issuer, verifier, clock):
    issuer.discovery_issuer = "http://evil.example/realms/default"
    for _ in range(3):
        with pytest.raises(UpstreamError, match="issuer_mismatch"):
            verifier.verify(issuer.sign())
    assert issuer.hits[DISCOVERY] == 1
    issuer.discovery_issuer = issuer.issuer
    clock.advance(31)
    assert verifier.verify(issuer.sign())


def test_cache_control_max_age_respected(issuer, verifier, clock):
    issuer.cache_control = "public, max-age=120"
    verifier.verify(issuer.sign())
    clock.advance(119)
    verifier.verify(issuer.sign())
    assert issuer.hits[JWKS] == 1
    clock.advance(2)
    verifier.verify(issuer.sign())
    assert issuer.hits[JWKS] == 2


def test_max_age_is_bounded_below(issuer, verifier, clock):
    issuer.cache_control = "max-age=0"
    verifier.verify(issuer.sign())
    clock.advance(59)
    verifier.verify(issuer.sign())
    assert issuer.hits[JWKS] == 1  # min_ttl 60 s


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, 300),
        ("max-age=600", 600),
        ("no-store", 60),
        ("max-age=10", 60),
        ("max-age=99999999", 86400),
        ('private, MAX-AGE="900"', 900),
        ("s-maxage=5", 300),
    ],
)
def test_freshness(header, expected):
    assert freshness(header, 300, 60, 86400) == expected


def test_unknown_kid_refetches_at_most_once_per_cooldown(issuer, verifier, clock):
    verifier.verify(issuer.sign())
    clock.advance(31)
    stranger = issuer.sign(key=new_key())
    for _ in range(5):
        with pytest.raises(TokenError, match="unknown_kid"):
            verifier.verify(stranger)
    assert issuer.hits[JWKS] == 2
    clock.advance(29)
    with pytest.raises(TokenError, match="unknown_kid"):
        verifier.verify(stranger)
    assert issuer.hits[JWKS] == 2
    clock.advance(2)
    with pytest.raises(TokenError, match="unknown_kid"):
        verifier.verify(stranger)
    assert issuer.hits[JWKS] == 3


def test_rotation_picked_up_by_unknown_kid(issuer, verifier, clock):
    verifier.verify(issuer.sign())
    clock.advance(31)  # past the cool-down, well inside max-age=300
    rotated = new_key()
    issuer.keys = [rotated, issuer.key]
    assert verifier.verify(issuer.sign(key=rotated))["sub"] == "alice"
    assert issuer.hits[JWKS] == 2


def test_server_down_keeps_cached_keys(issuer, verifier, clock):
    token = issuer.sign()
    verifier.verify(token)
    issuer.stop()
    clock.advance(301)  # the set is stale, the refetch fails: keep it
    assert verifier.verify(token)
    clock.advance(1000)
    assert verifier.verify(issuer.sign())


def test_server_erroring_keeps_cached_keys_and_backs_off(issuer, verifier, clock):
    verifier.verify(issuer.sign())
    issuer.down = True
    clock.advance(301)
    for _ in range(3):
        verifier.verify(issuer.sign())
    assert issuer.hits[JWKS] == 2


def test_garbage_jwks_keeps_cached_keys(issuer, verifier, clock):
    token = issuer.sign()
    verifier.verify(token)
    issuer.keys = []
    clock.advance(301)
    assert verifier.verify(token)
    assert issuer.hits[JWKS] == 2


def test_server_down_before_first_fetch(issuer, verifier):
    issuer.stop()
    with pytest.raises(UpstreamError) as caught:
        verifier.verify(issuer.sign())
    assert caught.value.reason == "discovery_failed"
    assert isinstance(caught.value, TokenError)  # catching TokenError alone fails closed


def test_jwks_down_before_first_fetch(issuer, verifier):
    issuer.keys = []
    with pytest.raises(UpstreamError, match="jwks_unavailable"):
        verifier.verify(issuer.sign(key=new_key()))


def test_concurrent_first_use_fetches_once(issuer, verifier):
    token, errors = issuer.sign(), []

    def check() -> None:
        try:
            verifier.verify(token)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=check) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert issuer.hits[DISCOVERY] == 1 and issuer.hits[JWKS] == 1


def test_stale_key_served_while_another_thread_refreshes(clock):
    key = new_key()
    document = {"keys": [key.as_dict(private=False)]}
    started, release, calls = threading.Event(), threading.Event(), []

    def slow_fetch():
        calls.append(clock())
        if len(calls) > 1:
            started.set()
            release.wait(5)
        return document, "max-age=60"

    cache = KeyCache(slow_fetch, clock)
    cache.get(key.kid)
    clock.advance(61)
    refresher = threading.Thread(target=cache.get, args=(key.kid,))
    refresher.start()
    assert started.wait(5)
    assert cache.get(key.kid) is not None  # answered from the stale set, not blocked
    release.set()
    refresher.join()
    assert len(calls) == 2


def serve_jwks(issuer, monkeypatch, *entries: dict) -> None:
    """Make the fake issuer publish exactly ``entries`` as its JWKS."""
    original = issuer.document

    def document(path):
        found = original(path)
        return ({"keys": list(entries)}, found[1]) if path == JWKS else found

    monkeypatch.setattr(issuer, "document", document)


def test_symmetric_key_in_jwks_is_never_used(issuer, verifier, monkeypatch):
    secret = OctKey.generate_key(256, parameters={"kid": "shared"})
    serve_jwks(issuer, monkeypatch, secret.as_dict(private=True), issuer.key.as_dict(private=False))
    header = {"typ": "at+jwt", "alg": "HS256", "kid": "shared"}
    signing_input = f"{segment(header)}.{segment(issuer.claims())}"
    mac = JWSRegistry.algorithms["HS256"].sign(signing_input.encode(), secret)
    assert refused(verifier, f"{signing_input}.{b64(mac)}") == "bad_alg"
    assert refused(verifier, issuer.sign(header={"kid": "shared"})) == "unknown_kid"
    assert verifier.verify(issuer.sign())


def test_encryption_keys_in_jwks_are_ignored(issuer, verifier, monkeypatch):
    serve_jwks(issuer, monkeypatch, {**issuer.key.as_dict(private=False), "use": "enc"}, new_key().as_dict())
    assert refused(verifier, issuer.sign()) == "unknown_kid"


def test_private_members_of_a_published_key_are_dropped():
    key = new_key()
    parsed = parse_key_set({"keys": [key.as_dict(private=True)]})
    assert not parsed[key.kid].is_private


def test_key_bound_to_another_alg_does_not_fit(issuer, verifier, monkeypatch):
    serve_jwks(issuer, monkeypatch, {**issuer.key.as_dict(private=False), "alg": "ES384"})
    assert refused(verifier, issuer.sign()) == "bad_alg"
