"""RFC 7517 JWKS: public members only, caching headers, and verification by PyJWT's
PyJWKClient (a JWKS consumer we did not write) across a key rotation."""

from __future__ import annotations

import time

import jwt as pyjwt
import pytest

from authserver.keys.jose import sign_jwt
from authserver.registry.realms import get_realm
from authserver.state import app_state
from tests.live_server import LiveServer

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def sign_with_active_key(app, claims: dict) -> str:
    with app.app_context():
        active = app_state().keys.signing_key("default")
        return sign_jwt({"kid": active.kid, "typ": "JWT"}, claims, active.key, active.alg)


def rotate(app, alg="ES256") -> str:
    with app.app_context():
        return app_state().keys.rotate(get_realm("default"), alg).kid


def test_jwks_has_public_members_only_and_cache_control(app, client):
    rotate(app, "RS256")
    response = client.get("/realms/default/jwks")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == f"public, max-age={app.config['JWKS_MAX_AGE']}"
    keys = response.get_json()["keys"]
    assert len(keys) == 2
    for key in keys:
        assert not PRIVATE_MEMBERS & set(key)
        assert {"kid", "alg", "use", "kty"} <= set(key)


def test_unknown_realm_is_404_json(client):
    response = client.get("/realms/nope/jwks")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_pyjwkclient_verifies_across_rotation(app, clock):
    claims = {"sub": "alice", "exp": int(time.time()) + 600}
    with LiveServer(app) as server:
        jwks_url = f"{server.url}/realms/default/jwks"
        old_token = sign_with_active_key(app, claims)
        assert _verify(jwks_url, old_token)["sub"] == "alice"

        new_kid = rotate(app)
        published = {k.key_id for k in pyjwt.PyJWKClient(jwks_url, cache_jwk_set=False).get_jwk_set().keys}
        assert new_kid in published and len(published) == 2
        assert pyjwt.get_unverified_header(sign_with_active_key(app, claims))["kid"] != new_kid

        clock.advance(app.config["KEY_PREPUBLICATION_SECONDS"])
        new_token = sign_with_active_key(app, claims)
        assert pyjwt.get_unverified_header(new_token)["kid"] == new_kid
        assert _verify(jwks_url, new_token)["sub"] == "alice"
        assert _verify(jwks_url, old_token)["sub"] == "alice"  # retired key still published


def test_tampered_token_is_refused_by_pyjwkclient(app):
    token = sign_with_active_key(app, {"sub": "alice", "exp": int(time.time()) + 600})
    header, payload, signature = token.split(".")
    forged_payload = pyjwt.utils.base64url_encode(b'{"sub":"mallory"}').decode()
    with LiveServer(app) as server, pytest.raises(pyjwt.InvalidSignatureError):
        _verify(f"{server.url}/realms/default/jwks", f"{header}.{forged_payload}.{signature}")


def _verify(jwks_url: str, token: str) -> dict:
    client = pyjwt.PyJWKClient(jwks_url, cache_jwk_set=False)
    key = client.get_signing_key_from_jwt(token)
    return pyjwt.decode(token, key.key, algorithms=["ES256", "RS256", "EdDSA"])
