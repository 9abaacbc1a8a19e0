"""Scope checks (RFC 6750 insufficient_scope) and the authserver ``acl`` claim."""

from __future__ import annotations

import pytest

from authserver_verifier import NO_ACL, AccessTokenClaims, InsufficientScope, TokenError, acl_allows, path_matches

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


def test_insufficient_scope_is_a_token_error(issuer, verifier):
    claims = verifier.verify(issuer.sign(scope="chat:read"))
    with pytest.raises(TokenError) as caught:
        claims.require_scope("chat:write")
    assert isinstance(caught.value, InsufficientScope)
    assert caught.value.reason == caught.value.error == "insufficient_scope"  # RFC 6750 section 3.1
    assert caught.value.missing == {"chat:write"} and "chat:write" in str(caught.value)


def test_token_error_names_its_rfc_6750_error(issuer, verifier):
    with pytest.raises(TokenError) as caught:
        verifier.verify(issuer.sign(aud="other"))
    assert caught.value.error == "invalid_token"


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


def test_readme_snippet_without_acl_claim(issuer, verifier):
    """A chat backend with no ACL template issues tokens without ``acl``: no path restriction."""
    claims = verifier.verify(issuer.sign())
    claims.require_scope("chat:write")
    assert "acl" not in claims
    assert claims.acl_allows("POST", "/v1/rooms/42/messages")
    assert claims.acl_allows("DELETE", "/v1/anything/at/all")


def test_no_acl_sentinel_allows_everything():
    assert acl_allows(NO_ACL, "GET", "/v1/me")
    assert acl_allows(AccessTokenClaims({}).get("acl", NO_ACL), "PATCH", "/v1/users/u_2")


@pytest.mark.parametrize("acl", [None, {}, "/v1/**", [None, 3, {"methods": ["GET"]}, {"path": 5}], [], "", 0])
def test_empty_or_malformed_acl_allows_nothing(acl):
    assert not AccessTokenClaims({"acl": acl}).acl_allows("GET", "/v1/me")
    assert not acl_allows(acl, "GET", "/v1/me")


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/v1/users/%2A/**", "/v1/users/*/x", True),  # a filled "*" is the literal "*"
        ("/v1/users/%2A/**", "/v1/users/*", True),
        ("/v1/users/%2A/**", "/v1/users/bob/x", False),  # ... and never a wildcard
        ("/v1/users/%2a/**", "/v1/users/bob", False),
        ("/v1/users/%2A%2A", "/v1/users/**", True),
        ("/v1/users/%2A%2A", "/v1/users/a/b", False),
        ("/v1/users/%2A%2A", "/v1/users", False),
        ("/v1/users/a%2A/x", "/v1/users/a*/x", True),
        ("/v1/users/a%2A/x", "/v1/users/ab/x", False),
        ("/v1/users/100%25/**", "/v1/users/100%/x", True),  # "%" filled as "%25"
        ("/v1/users/100%25/**", "/v1/users/100%25/x", False),
        ("/v1/users/a%2Fb/**", "/v1/users/a/b", False),  # "/" filled as "%2F" stays in one segment
        ("/v1/users/a%2Fb/**", "/v1/users/a/b/x", False),
        ("/v1/users/a%2Fb/**", "/v1/users/a", False),
        ("/v1/users/%7Buser_id%7D", "/v1/users/{user_id}", True),
        ("/v1/users/jos%C3%A9/**", "/v1/users/josé/x", True),  # UTF-8 bytes
        ("/v1/users/jos%c3%a9", "/v1/users/josé", True),
        ("/v1/users/jos%C3%A9", "/v1/users/jos%C3%A9", False),
        ("/v1/users/a+b", "/v1/users/a+b", True),  # "+" is not a space: not form encoding
        ("/v1/users/a+b", "/v1/users/a b", False),
        ("/v1/users/a%20b", "/v1/users/a b", True),
        ("/v1/users/%2E/x", "/v1/users/x", False),  # a filled "." or ".." matches nothing
        ("/v1/users/%2E%2E/x", "/v1/x", False),
        ("/v1/users/%2E%2E/**", "/v1/users/u_1/../x", False),
        ("/v1/users/bob/**", "/v1/users/bob/x", True),
    ],
)
def test_filled_values_are_percent_decoded_literals(pattern, path, matches):
    assert path_matches(pattern, path) is matches
    assert acl_allows([{"path": pattern}], "GET", path) is matches


@pytest.mark.parametrize("segment", ["100%", "%2", "%zz", "%G1", "%C3", "%ED%A0%80", "%FF", "a%%2A"])
def test_invalid_percent_encoding_matches_nothing(segment):
    assert not path_matches(f"/v1/users/{segment}/**", f"/v1/users/{segment}/x")
    assert not acl_allows([{"path": f"/v1/users/{segment}"}, {"path": "/v1/me"}], "GET", "/v1/users/bob")
    assert acl_allows([{"path": f"/v1/users/{segment}"}, {"path": "/v1/me"}], "GET", "/v1/me")


@pytest.mark.parametrize("user_id", ["*", "**", "bob/**", "..", ".", "%2A", "a/b", "{uid}", "x y", "é"])
def test_filled_value_never_acts_as_a_wildcard(user_id):
    """Fill a template the way authserver does; the result grants nothing beyond that user."""
    pattern = "/v1/users/{user_id}/**".replace("{user_id}", fill(user_id))
    for other in ("bob", "alice", "u_2"):
        if other != user_id:
            assert not path_matches(pattern, f"/v1/users/{other}/x")
            assert not path_matches(pattern, f"/v1/users/{other}")
    if "/" not in user_id and user_id not in (".", ".."):
        assert path_matches(pattern, f"/v1/users/{user_id}/x")


def fill(value: str) -> str:
    """authserver's encoding of a filled ACL value (percent-encode outside RFC 3986 pchar less "*")."""
    safe = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()+,;=:@"
    if value in (".", ".."):
        return "%2E" * len(value)
    return "".join(c if c in safe else "".join(f"%{b:02X}" for b in c.encode()) for c in value)


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


def test_many_double_stars_do_not_backtrack_exponentially():
    pattern = "/**" * 12 + "/x"
    assert not path_matches(pattern, "/a" * 40)
    assert path_matches(pattern, "/a" * 40 + "/x")
    assert path_matches("/a/**/b/**/c", "/a/1/b/2/b/3/c") and not path_matches("/a/**/b/**/c", "/a/c/b")
