"""Conformance harnesses: how ``test_conformance`` drives each connector.

A new connector proves itself by adding one :class:`ConnectorHarness` subclass decorated with
:func:`register_harness` (here, or in a module this package's ``conftest`` imports): it says
how to configure the connector against the in-process fakes, how to mint a valid token, and
how to make the standard bad variants. A variant that cannot apply (an opaque token has no
audience) returns None and its test is skipped with the reason given.
"""

from __future__ import annotations

import itertools
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from joserfc.jwk import KeySet

from authserver.plugin_api import (
    TOKEN_TYPE_ACCESS_TOKEN,
    TOKEN_TYPE_ID_TOKEN,
    TOKEN_TYPE_JWT,
    Connector,
    VerificationRequest,
)
from authserver_plugins.connectors.backend_assertion import BackendAssertionConnector
from authserver_plugins.connectors.oidc import OIDCConnector
from authserver_plugins.connectors.userinfo import UserinfoConnector

from .fakes import (
    FakeClock,
    FakeHttp,
    FakeProvider,
    ec_key,
    make_context,
    respond,
    sign,
)

REALM_ISSUER = "https://auth.example/realms/default"
CLIENT_ID = "backend-app"

HARNESSES: dict[str, type[ConnectorHarness]] = {}


def register_harness(cls: type[ConnectorHarness]) -> type[ConnectorHarness]:
    HARNESSES[cls.connector_class.type_name] = cls
    return cls


class ConnectorHarness(ABC):
    """Drives one connector type against fakes; one instance per test."""

    connector_class: ClassVar[type[Connector]]
    #: The subject token type the valid token is presented as.
    token_type: ClassVar[str]
    #: True when the connector enforces single use (``jti``).
    single_use: ClassVar[bool] = False
    #: Configurations that must be refused, each with the key the error must name.
    bad_configs: ClassVar[tuple[tuple[dict[str, Any], str], ...]] = ()

    def __init__(self, http: FakeHttp, clock: FakeClock):
        self.http, self.clock = http, clock
        self.context = make_context(http, clock)

    @abstractmethod
    def config(self) -> dict[str, Any]: ...

    @abstractmethod
    def valid(self) -> tuple[str, str]:
        """A fresh valid token and the subject it must yield."""

    @abstractmethod
    def bad_signature(self) -> str: ...

    @abstractmethod
    def expired(self) -> str: ...

    def wrong_audience(self) -> str | None:
        return None

    def connector(self) -> Connector:
        return self.connector_class(self.config(), self.context)

    def request(self) -> VerificationRequest:
        return VerificationRequest(issuer=REALM_ISSUER, client_id=CLIENT_ID)


@register_harness
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

    def __init__(self, http: FakeHttp, clock: FakeClock):
        super().__init__(http, clock)
        self.provider = FakeProvider(http, clock)

    def config(self) -> dict[str, Any]:
        return {"issuer": self.provider.issuer, "client_ids": [self.provider.client_id]}

    def valid(self) -> tuple[str, str]:
        return self.provider.id_token(), "user-42"

    def bad_signature(self) -> str:
        return sign(self.provider.claims(), ec_key("idp-1-lookalike"), kid=self.provider.key.kid)

    def expired(self) -> str:
        now = int(self.clock())
        return self.provider.id_token(iat=now - 900, exp=now - 300)

    def wrong_audience(self) -> str:
        return self.provider.id_token(aud="another-app")


@register_harness
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

    def __init__(self, http: FakeHttp, clock: FakeClock):
        super().__init__(http, clock)
        http.routes[self.url] = self._answer

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


@register_harness
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
    _jti = itertools.count()

    def config(self) -> dict[str, Any]:
        return {}

    def request(self) -> VerificationRequest:
        keys = KeySet.import_key_set({"keys": [ec_key("app-1").as_dict(private=False)]})
        return VerificationRequest(issuer=REALM_ISSUER, client_id=CLIENT_ID, client_keys=keys)

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
        now = int(self.clock())
        return sign(self.claims(iat=now - 400, exp=now - 100), ec_key("app-1"))

    def wrong_audience(self) -> str:
        return sign(self.claims(aud="https://elsewhere.example/realms/default"), ec_key("app-1"))
