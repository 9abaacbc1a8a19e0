"""Conformance harnesses of the first-party connectors, written exactly as a third party
writes its own (see :mod:`authserver.plugin_testing.connectors`)."""

from __future__ import annotations

import itertools
from typing import Any

from joserfc.jwk import KeySet, OctKey

from authserver.plugin_api import TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_JWT
from authserver.plugin_testing.connectors import (
    CLIENT_ID,
    REALM_ISSUER,
    ConnectorHarness,
    FakeClock,
    FakeHttp,
    FakeProvider,
    ec_key,
    respond,
    sign,
    sign_segments,
)
from authserver_plugins.connectors.backend_assertion import BackendAssertionConnector
from authserver_plugins.connectors.oidc import OIDCConnector
from authserver_plugins.connectors.userinfo import UserinfoConnector


class OIDCHarness(ConnectorHarness):
    connector_class = OIDCConnector
    token_type = TOKEN_TYPE_ID_TOKEN
    bad_configs = (
        ({}, "issuer"),
        ({"issuer": "http://idp.example", "client_ids": ["a"]}, "issuer"),
        ({"issuer": "https://idp.example"}, "client_ids"),
        ({"issuer": "https://idp.example", "client_ids": ["a"], "algorithms": ["HS256"]}, "algorithms"),
        ({"issuer": "https://idp.example", "client_ids": ["a"], "algorithms": ["none"]}, "algorithms"),
        ({"issuer": "https://idp.example", "client_ids": ["a"], "userinfo": "yes"}, "userinfo"),
        ({"issuer": "https://idp.example", "client_ids": ["a"], "isuer": "x"}, "isuer"),
    )

    def __init__(self, http: FakeHttp | None = None, clock: FakeClock | None = None):
        super().__init__(http, clock)
        self.provider = FakeProvider(self.http, self.clock)

    def config(self) -> dict[str, Any]:
        return {"issuer": self.provider.issuer, "client_ids": [self.provider.client_id]}

    def valid(self) -> tuple[str, str]:
        return self.provider.id_token(), "user-42"

    def bad_signature(self) -> str:
        return sign(self.provider.claims(), ec_key("idp-1-lookalike"), kid=self.provider.key.kid)

    def expired(self) -> str:
        return self.expired_since(300)

    def expired_since(self, seconds: int) -> str:
        now = int(self.clock())
        return self.provider.id_token(iat=now - 900, exp=now - seconds)

    def wrong_audience(self) -> str:
        return self.provider.id_token(aud="another-app")

    def sign_segments(self, header: bytes, payload: bytes) -> str:
        return sign_segments(header, payload, self.provider.key)


class UserinfoHarness(ConnectorHarness):
    connector_class = UserinfoConnector
    token_type = TOKEN_TYPE_ACCESS_TOKEN
    url = "https://api.github.example/user"
    bad_configs = (
        ({}, "userinfo_url"),
        ({"userinfo_url": "http://api.example/user"}, "userinfo_url"),
        ({"userinfo_url": "ftp://api.example/user"}, "userinfo_url"),
        ({"userinfo_url": "https://api.example/user", "subject_claim": 5}, "subject_claim"),
        ({"userinfo_url": "https://api.example/user", "claim_mapping": ["x"]}, "claim_mapping"),
        ({"userinfo_url": "https://api.example/user", "scope": "x"}, "scope"),
    )

    def __init__(self, http: FakeHttp | None = None, clock: FakeClock | None = None):
        super().__init__(http, clock)
        self.http.routes[self.url] = self._answer

    @staticmethod
    def _answer(headers: Any) -> Any:
        if headers.get("Authorization") == "Bearer good-token":
            return respond({"id": 42, "login": "ada", "avatar_url": "https://img.example/a"})
        return respond({"message": "Bad credentials"}, status=401)

    def config(self) -> dict[str, Any]:
        return {"userinfo_url": self.url, "subject_claim": "id",
                "claim_mapping": {"preferred_username": "login", "picture": "avatar_url"}}

    def valid(self) -> tuple[str, str]:
        return "good-token", "42"

    def bad_signature(self) -> str:
        return "forged-token"

    def expired(self) -> str:
        return "expired-token"


class BackendAssertionHarness(ConnectorHarness):
    connector_class = BackendAssertionConnector
    token_type = TOKEN_TYPE_JWT
    single_use = True
    bad_configs = (
        ({"allow_hs256": "true"}, "allow_hs256"),
        ({"algorithms": ["none"]}, "algorithms"),
        ({"algorithms": ["HS256"]}, "algorithms"),
        ({"algorithms": []}, "algorithms"),
        ({"allow_hs265": True}, "allow_hs265"),
    )
    secret = b"s" * 32
    _jti = itertools.count()

    def config(self) -> dict[str, Any]:
        return {"allow_hs256": True}  # HS256 is accepted when the core hands over a secret

    def client_keys(self) -> KeySet:
        return KeySet.import_key_set({"keys": [ec_key("app-1").as_dict(private=False)]})

    def shared_secret(self) -> bytes:
        return self.secret

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(self.clock())
        claims = {"iss": CLIENT_ID, "sub": "app-user-7", "aud": REALM_ISSUER, "iat": now,
                  "exp": now + 120, "jti": f"jti-{next(self._jti)}", **overrides}
        return {name: value for name, value in claims.items() if value is not None}

    def valid(self) -> tuple[str, str]:
        return sign(self.claims(), ec_key("app-1")), "app-user-7"

    def bad_signature(self) -> str:
        return sign(self.claims(), ec_key("app-1-lookalike"), kid="app-1")

    def expired(self) -> str:
        return self.expired_since(100)

    def expired_since(self, seconds: int) -> str:
        now = int(self.clock())
        return sign(self.claims(iat=now - seconds - 200, exp=now - seconds), ec_key("app-1"))

    def wrong_audience(self) -> str:
        return sign(self.claims(aud="https://elsewhere.example/realms/default"), ec_key("app-1"))

    def signed_with_shared_secret(self) -> str:
        return sign(self.claims(), OctKey.import_key(self.secret, {"kid": "shared"}), "HS256")

    def sign_segments(self, header: bytes, payload: bytes) -> str:
        return sign_segments(header, payload, ec_key("app-1"))


HARNESSES: dict[str, type[ConnectorHarness]] = {
    harness.connector_class.type_name: harness
    for harness in (OIDCHarness, UserinfoHarness, BackendAssertionHarness)
}
