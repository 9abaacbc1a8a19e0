"""Scope checks (RFC 6750 insufficient_scope) and the authserver ``acl`` claim."""

from __future__ import annotations

import pytest

from authserver_verifier import AccessTokenClaims, InsufficientScope, TokenError, acl_allows, path_matches

ACL = [
    {"path": "/v1/users/u_1/**", "methods": ["GET", "patch"]},
    {"path": "/v1/rooms/*/messages", "methods": ["GET", "POST"]},
    {"path": "/v1/me"},
    {"path": "/v1/public/**", "methods": ["*"]},
    {"path": "/v1/nothing", "methods": []},
]


def test_require_scope(issuer, verifier):
    claims = verifier.verify(issuer.sign(scope="chat:read chat:write"))
    claims.require_scope("chat:write")
    claims.require_scope("chat:read", "chat:write")
    assert claims.has_scope("chat:read") and not claims.has_scope("chat:admin")


def test_missing_scope_raises(issuer, verifier):
    claims = verifier.verify(issuer.sign(scope="chat:read"))
    with pytest.raises(InsufficientScope) as caught:
        claims.require_scope("chat:read", "chat:write", "chat:admin")
    assert caught.value.missing == {"chat:write", "chat:admin"}
    assert caught.value.scope == "chat:admin chat:write"
    assert not isinstance(caught.value, TokenError)


@pytest.mark.parametrize("scope", [None, "", ["chat:write"], 7])
def test_no_usable_scope_claim(scope):
    claims = AccessTokenClaims({"sub": "a"} if scope is None else {"sub": "a", "scope": scope})
    with pytest.raises(InsufficientScope):
        claims.require_scope("chat:write")


def test_scope_prefix_is_not_a_match():
    with pytest.raises(InsufficientScope):
        AccessTokenClaims({"scope": "chat:writer"}).require_scope("chat:write")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/v1/users/u_1", True),  # ** matches zero segments
        ("GET", "/v1/users/u_1/devices", True),
        ("PATCH", "/v1/users/u_1/a/b/c", True),  # any depth; method case-insensitive
        ("get", "/v1/users/u_1/devices", True),
        ("DELETE", "/v1/users/u_1/devices", False),
        ("GET", "/v1/users/u_2/devices", False),
        ("GET", "/v1/users/u_10", False),
        ("POST", "/v1/rooms/42/messages", True),  # * matches one segment
        ("POST", "/v1/rooms/messages", False),
        ("POST", "/v1/rooms/4/2/messages", False),
        ("POST", "/v1/rooms/42/messages/7", False),
        ("DELETE", "/v1/me", True),  # no methods: every method
        ("PUT", "/v1/public/x/y", True),  # "*" method
        ("GET", "/v1/nothing", False),  # empty methods: nothing
        ("GET", "/v1/me/", True),  # trailing slash ignored
        ("GET", "//v1//me", True),
        ("GET", "/V1/me", False),  # paths are case-sensitive
        ("GET", "/v1/users/u_1/../u_2", False),  # dot segments refused
        ("GET", "/v1/users/u_1/./x", False),
        ("GET", "v1/me", False),  # relative
        ("GET", "/v1/other", False),
    ],
)
def test_acl(method, path, allowed):
    assert AccessTokenClaims({"acl": ACL}).acl_allows(method, path) is allowed


def test_acl_from_a_verified_token(issuer, verifier):
    claims = verifier.verify(issuer.sign(acl=ACL))
    assert claims.acl_allows("POST", "/v1/rooms/42/messages")
    assert not claims.acl_allows("POST", "/v1/rooms/42/members")


@pytest.mark.parametrize("acl", [None, {}, "/v1/**", [None, 3, {"methods": ["GET"]}, {"path": 5}], []])
def test_missing_or_malformed_acl_allows_nothing(acl):
    claims = AccessTokenClaims({} if acl is None else {"acl": acl})
    assert not claims.acl_allows("GET", "/v1/me")


def test_malformed_methods_allow_nothing():
    assert not acl_allows([{"path": "/v1/me", "methods": "GET"}], "GET", "/v1/me")


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/**", "/", True),
        ("/**", "/a/b", True),
        ("/a/**/z", "/a/z", True),
        ("/a/**/z", "/a/b/c/z", True),
        ("/a/**/z", "/a/b/c", False),
        ("/a/*", "/a", False),
        ("/a/msg-*", "/a/msg-1", False),  # * inside a segment is literal
        ("/a/msg-*", "/a/msg-*", True),
    ],
)
def test_path_matches(pattern, path, matches):
    assert path_matches(pattern, path) is matches
