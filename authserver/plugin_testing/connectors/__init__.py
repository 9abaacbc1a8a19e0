"""Connector conformance kit: the suite every IdP connector passes (STYLE §8), its harness
base class, and in-process fakes (HTTP, clock, an OpenID Provider, token minting).

A third-party connector proves itself with one harness and one test class in its own test
suite (pytest is needed for the suite; the harness and the fakes import without it)::

    # tests/test_conformance.py
    from authserver.plugin_api import TOKEN_TYPE_ID_TOKEN
    from authserver.plugin_testing.connectors import ConnectorConformance, ConnectorHarness, FakeProvider, ec_key

    from acme_connector import AcmeConnector


    class AcmeHarness(ConnectorHarness):
        connector_class = AcmeConnector
        token_type = TOKEN_TYPE_ID_TOKEN
        bad_configs = (({}, "issuer"),)

        def __init__(self):
            super().__init__()
            self.provider = FakeProvider(self.http, self.clock)

        def config(self):
            return {"issuer": self.provider.issuer, "client_id": self.provider.client_id}

        def valid(self):
            return self.provider.id_token(), "user-42"

        def bad_signature(self):
            return self.provider.id_token(key=ec_key("not-published"))

        def expired(self):
            now = int(self.clock())
            return self.provider.id_token(iat=now - 900, exp=now - 300)


    class TestAcmeConnector(ConnectorConformance):
        harness_class = AcmeHarness

Optional harness methods (``wrong_audience``, ``expired_since``, ``client_keys``,
``shared_secret``, ``signed_with_shared_secret``, ``sign_segments``) unlock the tests that
depend on them; see :class:`ConnectorHarness`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .fakes import (
    FakeClock,
    FakeHttp,
    FakeProvider,
    b64,
    b64decode,
    down,
    ec_key,
    hmac_with_public_key,
    jwks,
    make_context,
    oversized,
    respond,
    rsa_key,
    sign,
    sign_segments,
    tamper,
    unsigned,
)
from .harness import CLIENT_ID, REALM_ISSUER, ConnectorHarness

if TYPE_CHECKING:
    from .suite import ConnectorConformance

__all__ = [
    "CLIENT_ID", "REALM_ISSUER", "ConnectorConformance", "ConnectorHarness", "FakeClock", "FakeHttp",
    "FakeProvider", "b64", "b64decode", "down", "ec_key", "hmac_with_public_key", "jwks", "make_context", "oversized",
    "respond", "rsa_key", "sign", "sign_segments", "tamper", "unsigned",
]


def __getattr__(name: str) -> Any:
    """The suite imports pytest, so it loads on first use only."""
    if name == "ConnectorConformance":
        from authserver.plugin_testing import _load_suite

        return _load_suite(__name__ + ".suite").ConnectorConformance
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
