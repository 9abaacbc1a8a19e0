"""How the conformance suite drives one connector: :class:`ConnectorHarness`.

A harness says how to configure its connector against the in-process fakes, how to mint a
valid token and the standard bad variants. A variant that cannot apply (an opaque token has
no audience the connector could check) returns None, and its test is skipped with the reason.

The suite builds every :class:`VerificationRequest` the way the core does, from the
connector's declared capabilities: client keys only for a ``signed_by_client`` connector,
a shared secret only for one that also ``accepts_shared_secret``.
"""

from __future__ import annotations

import dataclasses
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from authserver.plugin_api import Connector, Identity, VerificationRequest

from .fakes import FakeClock, FakeHttp, b64decode, make_context

#: The realm issuer the suite presents: the audience of client-signed tokens.
REALM_ISSUER = "https://auth.example/realms/default"
#: The client presenting the subject token (and, for ``signed_by_client``, signing it).
CLIENT_ID = "backend-app"


class ConnectorHarness(ABC):
    """Drives one connector type against fakes; the suite makes a fresh one per test."""

    connector_class: ClassVar[type[Connector]]
    #: The subject token type the valid token is presented as.
    token_type: ClassVar[str]
    #: True when the token type is single use: the connector returns its ``jti`` as
    #: ``Identity.single_use_id`` and the core spends it.
    single_use: ClassVar[bool] = False
    #: Configurations that must be refused, each with the key the error must name.
    bad_configs: ClassVar[tuple[tuple[dict[str, Any], str], ...]] = ()

    def __init__(self, http: FakeHttp | None = None, clock: FakeClock | None = None):
        self.http = http or FakeHttp()
        self.clock = clock or FakeClock()
        self.context = make_context(self.http, self.clock)

    # --- what every harness provides -------------------------------------------------

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """A configuration that works against the fakes."""

    @abstractmethod
    def valid(self) -> tuple[str, str]:
        """A fresh valid token and the subject it must yield."""

    @abstractmethod
    def bad_signature(self) -> str:
        """A token like a valid one whose signature (or upstream check) fails."""

    @abstractmethod
    def expired(self) -> str:
        """A token expired beyond any clock skew (or that the upstream reports expired)."""

    # --- what applies to some connectors only ----------------------------------------

    def wrong_audience(self) -> str | None:
        """A valid token issued to someone else, or None when the connector cannot tell."""
        return None

    def expired_since(self, seconds: int) -> str | None:
        """A token otherwise valid whose ``exp`` is ``seconds`` in the past, or None when the
        connector reads no expiry itself (the upstream decides for opaque tokens)."""
        return None

    def client_keys(self) -> Any:
        """The signing client's registered keys (a joserfc ``KeySet``), for a
        ``signed_by_client`` connector."""
        return None

    def shared_secret(self) -> bytes | None:
        """The connection's HS256 secret, for a connector that ``accepts_shared_secret``."""
        return None

    def signed_with_shared_secret(self) -> str | None:
        """A valid token signed with :meth:`shared_secret`."""
        return None

    def sign_segments(self, header: bytes, payload: bytes) -> str | None:
        """A compact JWS over exactly these segment bytes, signed as :meth:`valid` signs (see
        :func:`~authserver.plugin_testing.connectors.fakes.sign_segments`); None when the
        tokens are not JWS. Lets the suite show a strict parse, not a bad signature, refuses."""
        return None

    # --- used by the suite ------------------------------------------------------------

    def connector(self, **limits: int) -> Connector:
        """The connector, with the context's limits (``clock_skew``, ``max_token_bytes``)
        changed as given."""
        return self.connector_class(self.config(), dataclasses.replace(self.context, **limits))

    def request(self) -> VerificationRequest:
        """The request the core builds for this connector's capabilities."""
        cls = self.connector_class
        if not cls.signed_by_client:
            return VerificationRequest(issuer=REALM_ISSUER, client_id=CLIENT_ID)
        secret = self.shared_secret() if cls.accepts_shared_secret else None
        return VerificationRequest(issuer=REALM_ISSUER, client_id=CLIENT_ID,
                                   client_keys=self.client_keys(), shared_secret=secret)

    def verify(self, token: str, *, token_type: str | None = None, connector: Connector | None = None,
               request: VerificationRequest | None = None) -> Identity:
        return (connector or self.connector()).verify(token, token_type or self.token_type,
                                                      request or self.request())


def jws_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The header and payload of a compact JWS the harness minted (trusted input), or None
    when ``token`` is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, payload = (json.loads(b64decode(part)) for part in parts[:2])
    except ValueError:
        return None
    if not isinstance(header, Mapping) or not isinstance(payload, Mapping):
        return None
    return dict(header), dict(payload)
