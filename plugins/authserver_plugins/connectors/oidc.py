"""OpenID Connect Core 1.0 §3.1.3.7 ID Token validation, against one upstream OpenID Provider.

Metadata comes from OpenID Connect Discovery 1.0 §4 (the document's ``issuer`` must equal
the configured one, §4.3) and keys from its ``jwks_uri`` (RFC 7517), both cached in the
instance (see ``_cache``; a new ``kid`` triggers a refetch, OIDC Core §10.1.1). When the
connection enables it, access tokens are checked at the provider's UserInfo endpoint (§5.3).
With ``browser_login`` the same document names the authorization and token endpoints (and the
RFC 9207 ``iss`` promise) for the browser login's upstream leg; a document without them still
serves the token exchange.

Config::

    issuer       exact issuer URL (https, or http on loopback)
    client_ids   our client ids at the provider; ``aud`` must contain one (``client_id``: one)
    algorithms   allowed signing algorithms, a subset of ASYMMETRIC_ALGORITHMS
    userinfo     accept access tokens, checked at the UserInfo endpoint (default false)
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import Key

from authserver.plugin_api import (
    TOKEN_TYPE_ACCESS_TOKEN,
    TOKEN_TYPE_ID_TOKEN,
    BrowserEndpoints,
    Connector,
    ConnectorContext,
    HttpResponse,
    Identity,
    PluginConfigError,
    ProbeFinding,
    UpstreamUnavailable,
    VerificationRequest,
)

from . import _config, _jwt
from ._cache import CachedDocument, parse_jwks
from ._claims import normalize_profile, stringify_subject
from ._userinfo import fetch_userinfo

_KEYS = ("issuer", "client_ids", "client_id", "algorithms", "userinfo")
#: RFC 9068 §2.1 / §4: a JWT access token must not pass for an ID token.
_ACCESS_TOKEN_TYPS = ("at+jwt", "application/at+jwt")
#: Discovery metadata the browser login's upstream leg reads (OIDC Discovery §3, RP-Initiated Logout §2.1).
_BROWSER_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "end_session_endpoint")


class OIDCConnector(Connector):
    """Verifies ID tokens (and optionally access tokens) of one OpenID Provider. Thread-safe."""

    type_name = "oidc"
    subject_token_types = frozenset({TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_ACCESS_TOKEN})
    browser_login = True

    def __init__(self, config: Mapping[str, Any], context: ConnectorContext):
        super().__init__(config, context)
        issuer = self.config["issuer"]
        self._discovery = CachedDocument(f"discovery of {issuer}", self._fetch_discovery,
                                         self._parse_discovery, context.clock, context.logger)
        self._jwks = CachedDocument(f"JWKS of {issuer}", self._fetch_jwks, parse_jwks,
                                    context.clock, context.logger)

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        _config.refuse_unknown_keys(config, _KEYS)
        return {
            "issuer": _config.https_url(config.get("issuer"), "issuer"),
            "client_ids": _client_ids(config),
            "algorithms": _config.algorithms(config.get("algorithms")),
            "userinfo": _config.boolean(config.get("userinfo", False), "userinfo"),
        }

    def verify(self, token: str, token_type: str, request: VerificationRequest) -> Identity:
        _jwt.check_token_type(token_type, self.subject_token_types)
        raw = _jwt.check_size(token, self.context.max_token_bytes)
        if token_type == TOKEN_TYPE_ACCESS_TOKEN:
            return self._verify_access_token(token)
        return self._verify_id_token(raw)

    # --- ID tokens ---------------------------------------------------------------------

    def _verify_id_token(self, raw: bytes) -> Identity:
        signed = _jwt.read_token(raw)
        header = signed.header
        alg = _jwt.check_algorithm(header, self.config["algorithms"])
        if str(header.get("typ", "")).lower() in _ACCESS_TOKEN_TYPS:
            raise _jwt.refuse("an RFC 9068 access token was presented as an ID token")
        claims = _jwt.verify_signature(signed, self._key(header.get("kid"), alg), alg)
        _jwt.check_claims(claims, now=self.context.clock(), leeway=self.context.clock_skew,
                          issuer=self.config["issuer"], audiences=self.config["client_ids"])
        self._check_audiences(claims)
        return Identity(subject=claims["sub"], claims=normalize_profile(claims),
                        workspace=_workspace(claims), expires_at=int(claims["exp"]))

    def _key(self, kid: str | None, alg: str) -> Key:
        key = _jwt.find_key(self._jwks.get(), kid, alg)
        if key is None:  # maybe rotated: refetch, at most once per cool-down
            key = _jwt.find_key(self._jwks.refresh(), kid, alg)
        if key is None:
            raise _jwt.refuse(f"no {alg} key with kid {kid!r} in the provider's JWKS")
        return key

    def _check_audiences(self, claims: Mapping[str, Any]) -> None:
        """§3.1.3.7 item 3: the token is refused when ``aud`` holds an audience that is not one
        of our client ids at this provider (whatever ``azp`` says); items 4-5: with several
        audiences ``azp`` is required, and when present it must be one of our client ids."""
        untrusted = [a for a in _jwt.audiences_of(claims) if a not in self.config["client_ids"]]
        if untrusted:
            raise _jwt.refuse(f"aud holds audiences that are not our client ids: {untrusted!r}")
        azp = claims.get("azp")
        if azp is None and len(_jwt.audiences_of(claims)) > 1:
            raise _jwt.refuse("ID token has several audiences and no azp")
        if azp is not None and azp not in self.config["client_ids"]:
            raise _jwt.refuse(f"azp {azp!r} is not one of our client ids")

    # --- access tokens -----------------------------------------------------------------

    def _verify_access_token(self, token: str) -> Identity:
        if not self.config["userinfo"]:
            raise _jwt.refuse("access tokens are not enabled for this connection",
                              _jwt.UNSUPPORTED_TYPE)
        endpoint = self._discovery.get().get("userinfo_endpoint")
        if not endpoint:
            raise _jwt.refuse("provider publishes no userinfo_endpoint", _jwt.UNSUPPORTED_TYPE)
        body = fetch_userinfo(self.context.http, endpoint, token)
        subject = stringify_subject(body.get("sub"))
        if subject is None:
            raise UpstreamUnavailable("userinfo response has no usable sub")
        return Identity(subject=subject, claims=normalize_profile(body))

    # --- discovery and keys ------------------------------------------------------------

    def _fetch_discovery(self) -> HttpResponse:
        issuer = self.config["issuer"].rstrip("/")
        return self.context.http.get(f"{issuer}/.well-known/openid-configuration")

    def _parse_discovery(self, document: Any) -> dict[str, Any]:
        if not isinstance(document, dict):
            raise TypeError("discovery document is not a JSON object")
        if document.get("issuer") != self.config["issuer"]:
            raise ValueError(f"discovery issuer {document.get('issuer')!r} is not ours")
        metadata = {"jwks_uri": _config.https_url(document.get("jwks_uri"), "jwks_uri")}
        if document.get("userinfo_endpoint") is not None:
            metadata["userinfo_endpoint"] = _config.https_url(document["userinfo_endpoint"], "userinfo_endpoint")
        for name in _BROWSER_ENDPOINTS:  # the browser login's: optional for the token exchange
            with contextlib.suppress(PluginConfigError):
                metadata[name] = _config.https_url(document.get(name), name)
        metadata["iss_parameter"] = document.get("authorization_response_iss_parameter_supported") is True
        return metadata

    # --- the browser login's upstream leg ------------------------------------------------

    def browser_endpoints(self) -> BrowserEndpoints:
        """OIDC Discovery §3: the authorization and token endpoints are required for the code
        flow (https, or http on loopback); a document without them serves the exchange only."""
        metadata = self._discovery.get()
        if "authorization_endpoint" not in metadata or "token_endpoint" not in metadata:
            raise UpstreamUnavailable("the provider's discovery names no usable authorization or token endpoint")
        return BrowserEndpoints(issuer=self.config["issuer"], authorization_endpoint=metadata["authorization_endpoint"],
                                token_endpoint=metadata["token_endpoint"],
                                iss_parameter_supported=metadata["iss_parameter"],
                                end_session_endpoint=metadata.get("end_session_endpoint"))

    def _fetch_jwks(self) -> HttpResponse:
        return self.context.http.get(self._discovery.get()["jwks_uri"])

    # --- "test connection" ---------------------------------------------------------------

    def probe(self) -> list[ProbeFinding]:
        """Discovery, then the JWKS it names, fetched now (the caches are left alone)."""
        url = f"{self.config['issuer'].rstrip('/')}/.well-known/openid-configuration"
        try:
            metadata = self._parse_discovery(_json_of(self._fetch_discovery()))
        except _PROBE_ERRORS as error:
            return [ProbeFinding("discovery", False, f"{url}: {_reason(error)}")]
        endpoints = ", ".join(f"{name} {metadata[name]}" for name in ("jwks_uri", *_BROWSER_ENDPOINTS,
                                                                      "userinfo_endpoint") if name in metadata)
        found = [ProbeFinding("discovery", True, f"{url}: issuer {self.config['issuer']}; {endpoints}")]
        try:
            keys = parse_jwks(_json_of(self.context.http.get(metadata["jwks_uri"])))
        except _PROBE_ERRORS as error:
            return [*found, ProbeFinding("jwks", False, f"{metadata['jwks_uri']}: {_reason(error)}")]
        described = "; ".join(f"{key.kid} ({key.key_type} {key.get('alg') or key.get('crv') or 'no alg'})"
                              for key in keys.keys)
        usable = [key for key in keys.keys if any(_jwt.verifies(key, alg) for alg in self.config["algorithms"])]
        return [*found, ProbeFinding("jwks", bool(usable), f"{len(keys.keys)} signing key(s): {described}"
                                     + ("" if usable else "; none for the allowed algorithms"))]


_PROBE_ERRORS = (UpstreamUnavailable, PluginConfigError, JoseError, ValueError, TypeError, KeyError)


def _json_of(response: HttpResponse) -> Any:
    if response.status != 200:
        raise ValueError(f"HTTP status {response.status}")
    return response.json()


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__


def _workspace(claims: Mapping[str, Any]) -> str | None:
    """A ``workspace`` claim of a trusted provider (the customer's tenant), when it is a string."""
    workspace = claims.get("workspace")
    return workspace if isinstance(workspace, str) and workspace.strip() else None


def _client_ids(config: Mapping[str, Any]) -> list[str]:
    ids = []
    if config.get("client_ids") is not None:
        ids += _config.string_list(config["client_ids"], "client_ids")
    if config.get("client_id") is not None:
        ids.append(_config.string(config["client_id"], "client_id"))
    if not ids:
        raise PluginConfigError("client_ids", "at least one client id is required")
    return list(dict.fromkeys(ids))
