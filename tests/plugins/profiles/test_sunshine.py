"""Sunshine Conversations profile: no official token SDK on PyPI, so the token is checked
against the documented shape (header ``kid``; ``scope``/``external_id``, or the v1
``appUser``/``userId`` form) and verified with PyJWT and the key secret."""

from __future__ import annotations

import jwt as pyjwt
import pytest

from authserver.plugin_testing.profiles import sample_token, sign
from authserver_plugins.profiles.sunshine import SunshineProfile

from .helpers import SUNSHINE_SECRET

pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key is .* bytes long")

CRED = {"key_id": "app_5deaa3531c7f940010cc4ba4", "secret": SUNSHINE_SECRET}


def _decode(form: str | None = None) -> tuple[dict, dict]:
    cred = CRED | ({"form": form} if form else {})
    token = sign(SunshineProfile(cred).shape(sample_token()))
    return (pyjwt.get_unverified_header(token),
            pyjwt.decode(token, SUNSHINE_SECRET, algorithms=["HS256"]))


def test_external_id_form():
    header, claims = _decode()
    assert header == {"typ": "JWT", "alg": "HS256", "kid": CRED["key_id"]}
    assert claims["scope"] == "user" and claims["external_id"] == "alice"
    assert set(claims) == {"scope", "external_id", "iat", "exp"}


def test_older_app_user_form():
    _, claims = _decode("appUser")
    assert set(claims) == {"scope", "userId", "iat", "exp"}
    assert claims["scope"] == "appUser" and claims["userId"] == "alice"
