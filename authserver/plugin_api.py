"""The plugin API: IdP connectors and token profiles, the whole contract in one file.

Two kinds of plugin, found through entry points (``authserver.connectors`` and
``authserver.token_profiles``) so a third-party package can add its own:

* a **connector** answers "whose token is this?": it verifies an upstream token and
  returns an :class:`Identity`;
* a **token profile** answers "what does the chat backend expect this token to look
  like?": it turns a :class:`GrantedToken` into a :class:`ShapedToken` (header, claims,
  and the key to sign with when that is not the realm's key).

The core owns every security decision (client authentication, which IdPs and audiences a
client may use, scopes, lifetimes, ``jti``, signing). Plugins get narrow collaborators
passed in (:class:`ConnectorContext`) and never import Flask or the models.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from authserver.edge.jose_compact import MalformedToken, parse_compact

CONNECTOR_GROUP = "authserver.connectors"
PROFILE_GROUP = "authserver.token_profiles"

# RFC 8693 §3 token type identifiers, plus our own for anonymous device sessions.
TOKEN_TYPE_ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"
TOKEN_TYPE_ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
TOKEN_TYPE_JWT = "urn:ietf:params:oauth:token-type:jwt"
TOKEN_TYPE_SESSION = "urn:authserver:token-type:session_token"

#: Asymmetric algorithms an upstream token may be signed with. Never "none", never HMAC
#: unless a connection explicitly holds a shared secret.
ASYMMETRIC_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                         "ES256", "ES384", "ES512", "EdDSA")


class PluginConfigError(ValueError):
    """A plugin's configuration (or credential) is unusable; ``key`` names the bad setting."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


class InvalidSubjectToken(Exception):
    """The subject token is not acceptable (RFC 8693 §2.2.2: ``invalid_request``).

    ``description`` is safe to show the client and must not leak upstream detail;
    ``detail`` goes to the log only.
    """

    def __init__(self, description: str = "the subject token is invalid", detail: str = ""):
        super().__init__(detail or description)
        self.description = description
        self.detail = detail


class UpstreamUnavailable(Exception):
    """The upstream IdP cannot be reached and nothing cached can stand in (HTTP 503)."""


# --- collaborators handed to plugins -------------------------------------------------


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; raises ``ValueError`` when it is not."""
        return json.loads(self.body)


class HttpClient(Protocol):
    """Outbound HTTP with timeouts and a response size cap, enforced by the core.

    Raises :class:`UpstreamUnavailable` on connection errors and timeouts; any HTTP status
    is returned as a response.
    """

    def get(self, url: str, *, headers: Mapping[str, str] | None = None) -> HttpResponse: ...

    def post(self, url: str, *, data: Mapping[str, str],
             headers: Mapping[str, str] | None = None) -> HttpResponse: ...


@dataclass(frozen=True)
class ConnectorContext:
    """What the core hands every connector: collaborators, and the limits from configuration
    (``CLOCK_SKEW_SECONDS``, ``MAX_SUBJECT_TOKEN_BYTES``), so no plugin hard-codes them."""

    http: HttpClient
    clock: Callable[[], float]
    logger: logging.Logger
    clock_skew: int = 60  # seconds allowed on exp / nbf / iat
    max_token_bytes: int = 16 * 1024  # subject tokens larger than this are refused unparsed


def read_compact_jws(token: str, max_bytes: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The unverified header and payload of a compact JWS, parsed strictly (UTF-8 JSON
    objects, unique names, bounded size and depth); raises :class:`InvalidSubjectToken`.

    Connectors use it instead of their own JSON parsing, so every plugin reads tokens the
    way the core does."""
    try:
        parsed = parse_compact(token, max_bytes)
    except MalformedToken as exc:
        raise InvalidSubjectToken(detail=exc.message) from None
    return parsed.header, parsed.payload


# --- connectors ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProbeFinding:
    """One thing "test connection" fetched from the upstream (:meth:`Connector.probe`)."""

    what: str  # "discovery", "jwks", …
    ok: bool
    detail: str


@dataclass(frozen=True)
class BrowserEndpoints:
    """What the browser login's upstream leg needs of an OpenID Provider (OIDC Discovery §3)."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    #: RFC 9207 §3: the provider puts ``iss`` in its authorization responses (then required).
    iss_parameter_supported: bool = False
    #: OIDC RP-Initiated Logout §2.1, when the provider publishes one.
    end_session_endpoint: str | None = None


@dataclass(frozen=True)
class VerificationRequest:
    """What the core knows about the exchange that a connector may need."""

    issuer: str  # our realm's issuer: the audience of backend assertions
    client_id: str  # the authenticated client presenting the subject token
    client_keys: Any = None  # joserfc KeySet of the client's registered public keys, or None
    shared_secret: bytes | None = None  # HS256 secret of the connection, where it allows one


@dataclass(frozen=True)
class Identity:
    """A verified upstream identity, normalized.

    ``claims`` holds the verified claims under OIDC names (``email``, ``email_verified``,
    ``given_name``, ``family_name``, ``name``, ``picture``, ``preferred_username`` …).
    """

    subject: str
    claims: Mapping[str, Any] = field(default_factory=dict)
    custom: Mapping[str, Any] | None = None  # verified custom data (backend assertion)
    workspace: str | None = None
    acl: tuple[Mapping[str, Any], ...] | None = None  # ACL the app's backend asks for
    expires_at: int | None = None
    #: The token's ``jti`` when the token is single use (RFC 7523 §3 item 7): the core spends
    #: it in the shared replay cache after every other check passed.
    single_use_id: str | None = None


class Connector(ABC):
    """Verifies tokens of one upstream IdP connection. One instance per connection,
    long-lived, so it may keep caches (discovery, JWKS) as instance state.

    What differs between connectors is declared here as capabilities, so the core never
    asks which connector it has:

    * ``signed_by_client``: tokens are signed by a client of the realm (with its registered
      keys, ``iss`` = its client id): the connection names that client, and the core hands
      its keys to :meth:`verify` in ``VerificationRequest.client_keys``;
    * ``accepts_shared_secret``: the connection may hold an HS256 secret the server
      generates (``VerificationRequest.shared_secret``);
    * ``default_user_id_rule``: how ``user_id`` is derived unless the admin says otherwise;
    * ``browser_login``: the connection can run the browser login's upstream leg (OIDC Core
      §3.1, authorization code + PKCE); :meth:`browser_endpoints` then names the endpoints.
    """

    type_name: ClassVar[str]
    subject_token_types: ClassVar[frozenset[str]]
    signed_by_client: ClassVar[bool] = False
    accepts_shared_secret: ClassVar[bool] = False
    default_user_id_rule: ClassVar[str] = "{idp}:{sub}"
    browser_login: ClassVar[bool] = False

    def __init__(self, config: Mapping[str, Any], context: ConnectorContext):
        self.config = self.validate_config(config)
        self.context = context

    @classmethod
    @abstractmethod
    def validate_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        """Return the normalized config, or raise :class:`PluginConfigError` naming the key."""

    @abstractmethod
    def verify(self, token: str, token_type: str, request: VerificationRequest) -> Identity:
        """Verify ``token``; raise :class:`InvalidSubjectToken` or :class:`UpstreamUnavailable`."""

    def browser_endpoints(self) -> BrowserEndpoints:
        """With ``browser_login``: the upstream's endpoints (from its discovery); raise
        :class:`UpstreamUnavailable` when they cannot be had."""
        raise NotImplementedError(f"{self.type_name} connections cannot run a browser login")

    def probe(self) -> list[ProbeFinding]:
        """"Test connection": fetch what the connection depends on upstream now, bypassing
        every cache, and say what was found (or what failed). Never raises for the upstream's
        faults; a connection that fetches nothing says so."""
        return [ProbeFinding("upstream", True, f"{self.type_name} connections fetch nothing from an upstream")]

    def issuer(self) -> str | None:
        """The ``iss`` this connection's JWTs carry, used to route a token to its connection
        (None: any; a ``signed_by_client`` connection's issuer is its client id)."""
        issuer = self.config.get("issuer")
        return issuer if isinstance(issuer, str) else None


# --- token profiles ------------------------------------------------------------------


@dataclass(frozen=True)
class GrantedToken:
    """Everything the core decided about a token it is about to issue."""

    issuer: str
    subject: str  # user_id when identified, else _id
    audience: str
    client_id: str
    scopes: tuple[str, ...]
    issued_at: int
    expires_at: int
    jti: str
    uid: str  # the user's _id, always
    identified: bool
    verified: bool
    idp: str | None = None
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None
    custom: Mapping[str, Any] | None = None
    unverified: Mapping[str, Any] | None = None
    acl: tuple[Mapping[str, Any], ...] | None = None
    workspace: str | None = None
    act: Mapping[str, Any] | None = None
    sid: str | None = None


@dataclass(frozen=True)
class ShapedToken:
    """A token ready to sign. ``key`` None means: sign with the realm's active key."""

    header: Mapping[str, Any]
    claims: Mapping[str, Any]
    key: Any = None  # a joserfc key when the profile signs with a vendor credential
    algorithm: str | None = None  # required when ``key`` is given


class TokenProfile(ABC):
    """Reshapes a granted token into what one kind of chat backend expects."""

    name: ClassVar[str]
    issued_token_type: ClassVar[str] = TOKEN_TYPE_JWT
    #: Upper bound on the lifetime this profile's tokens may have, or None.
    max_lifetime: ClassVar[int | None] = None
    #: Whether the profile needs a vendor credential stored on the chat backend.
    requires_credential: ClassVar[bool] = False

    def __init__(self, credential: Mapping[str, Any] | None = None):
        self.credential = self.validate_credential(credential) if self.requires_credential else None

    @classmethod
    def validate_credential(cls, credential: Mapping[str, Any] | None) -> dict[str, Any]:
        """Return the normalized credential, or raise :class:`PluginConfigError` naming the key."""
        return {}

    @classmethod
    def generate_credential(cls) -> dict[str, Any] | None:
        """A fresh credential the server can create itself (e.g. a dedicated key), or None."""
        return None

    def public_info(self) -> dict[str, Any]:
        """Non-secret facts an admin may see (e.g. a public key and a config snippet)."""
        return {}

    @abstractmethod
    def shape(self, token: GrantedToken) -> ShapedToken:
        """Build the header and claims for ``token``."""
