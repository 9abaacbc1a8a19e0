"""RFC 7523 §3 JWT assertions from the app's own backend, presented as an RFC 8693 subject
token of type ``urn:ietf:params:oauth:token-type:jwt``.

The app's backend vouches for one of its users by signing a short-lived JWT with the
client's registered key (``VerificationRequest.client_keys``), or with HS256 and the
connection's shared secret when the configuration allows it:

* ``iss`` = the client id, ``aud`` contains our issuer, ``sub`` = the app's user id;
* ``exp`` and ``iat`` required, lifetime at most :data:`MAX_LIFETIME` seconds, ``nbf``
  honoured, clock skew from the configuration (``ConnectorContext.clock_skew``);
* ``jti`` required and single use (§3 item 7): returned as ``Identity.single_use_id``, which
  the core spends in its shared replay cache;
* the app's backend is the authority on its users' emails: an ``email`` it asserts counts
  as verified unless the assertion says ``email_verified: false``;
* optional ``given_name``, ``family_name``, ``name``, ``email``, ``picture``, ``custom``
  (object), ``workspace`` (string) and ``acl`` (list of ``{"path", "methods"}``).

Config::

    algorithms   allowed asymmetric algorithms (default: all of ASYMMETRIC_ALGORITHMS)
    allow_hs256  accept HS256 when the connection holds a shared secret (default true; the
                 secret exists only when an admin asked the server to generate one)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from joserfc.jwk import Key, KeySet, OctKey

from authserver.plugin_api import (
    ASYMMETRIC_ALGORITHMS,
    TOKEN_TYPE_JWT,
    Connector,
    Identity,
    VerificationRequest,
)

from . import _config, _jwt
from ._claims import normalize_profile

#: Longest ``exp - iat`` accepted, in seconds.
MAX_LIFETIME = 300
#: RFC 7518 §3.2: an HS256 key must be at least 256 bits.
MIN_SECRET_BYTES = 32
_KEYS = ("algorithms", "allow_hs256")
_PROFILE = ("given_name", "family_name", "name", "email", "picture")


class BackendAssertionConnector(Connector):
    """Verifies assertions signed by the app's backend. Stateless, so thread-safe."""

    type_name = "backend_assertion"
    subject_token_types = frozenset({TOKEN_TYPE_JWT})
    signed_by_client = True
    accepts_shared_secret = True
    default_user_id_rule = "{sub}"  # the app's backend names its own users

    @classmethod
    def validate_config(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        _config.refuse_unknown_keys(config, _KEYS)
        algorithms = config.get("algorithms")
        return {
            "algorithms": _config.algorithms(algorithms) if algorithms is not None
            else ASYMMETRIC_ALGORITHMS,
            "allow_hs256": _config.boolean(config.get("allow_hs256", True), "allow_hs256"),
        }

    def verify(self, token: str, token_type: str, request: VerificationRequest) -> Identity:
        _jwt.check_token_type(token_type, self.subject_token_types)
        raw = _jwt.check_size(token, self.context.max_token_bytes)
        signed = _jwt.read_token(raw)
        header = signed.header
        alg = _jwt.check_algorithm(header, self._allowed(request))
        claims = _jwt.verify_signature(signed, self._key(header.get("kid"), alg, request), alg)
        _jwt.check_claims(claims, now=self.context.clock(), leeway=self.context.clock_skew,
                          issuer=request.client_id, audiences=[request.issuer],
                          required=("sub", "exp", "iat", "jti"))
        _check_lifetime(claims)
        return _identity(claims)

    def issuer(self) -> str | None:
        return None  # the signing client's id: the core knows it from the connection

    def _allowed(self, request: VerificationRequest) -> tuple[str, ...]:
        hs256 = self.config["allow_hs256"] and request.shared_secret is not None
        return (*self.config["algorithms"], *(("HS256",) if hs256 else ()))

    def _key(self, kid: str | None, alg: str, request: VerificationRequest) -> Key:
        if alg == "HS256":  # only reachable when allowed and a secret exists
            secret = request.shared_secret or b""
            if len(secret) < MIN_SECRET_BYTES:
                raise _jwt.refuse(f"shared secret shorter than {MIN_SECRET_BYTES} bytes")
            return OctKey.import_key(secret)
        keys = request.client_keys
        if not isinstance(keys, KeySet) or not keys:
            raise _jwt.refuse(f"client {request.client_id!r} has no registered keys")
        key = _jwt.find_key(keys, kid, alg)
        if key is None:
            raise _jwt.refuse(f"no {alg} key with kid {kid!r} among the client's keys")
        return key


def _check_lifetime(claims: Mapping[str, Any]) -> None:
    lifetime = claims["exp"] - claims["iat"]
    if lifetime > MAX_LIFETIME:
        raise _jwt.refuse(f"assertion lifetime {lifetime}s exceeds {MAX_LIFETIME}s")


def _identity(claims: Mapping[str, Any]) -> Identity:
    profile = {name: claims[name] for name in _PROFILE if name in claims}
    if "email" in profile:
        profile["email_verified"] = claims.get("email_verified", True)
    if not isinstance(claims["jti"], str) or not claims["jti"]:
        raise _jwt.refuse("jti is not a non-empty string")
    return Identity(subject=claims["sub"], claims=normalize_profile(profile),
                    custom=_optional(claims, "custom", dict), workspace=_workspace(claims),
                    acl=_acl(claims.get("acl")), expires_at=int(claims["exp"]),
                    single_use_id=claims["jti"])


def _optional(claims: Mapping[str, Any], name: str, kind: type) -> Any:
    value = claims.get(name)
    if value is not None and not isinstance(value, kind):
        raise _jwt.refuse(f"claim {name!r} must be a {kind.__name__}")
    return value


def _workspace(claims: Mapping[str, Any]) -> str | None:
    workspace = _optional(claims, "workspace", str)
    if workspace is not None and not workspace.strip():
        raise _jwt.refuse("claim 'workspace' is blank")
    return workspace


def _acl(value: Any) -> tuple[dict[str, Any], ...] | None:
    """``[{"path": str, "methods": [str, …]}, …]``, methods upper-cased."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise _jwt.refuse("claim 'acl' must be a list")
    return tuple(map(_acl_entry, value))


def _acl_entry(entry: Any) -> dict[str, Any]:
    path = entry.get("path") if isinstance(entry, dict) else None
    methods = entry.get("methods") if isinstance(entry, dict) else None
    if not isinstance(path, str) or not path or not isinstance(methods, list) \
            or not all(isinstance(m, str) and m for m in methods):
        raise _jwt.refuse(f"malformed acl entry {entry!r}")
    return {"path": path, "methods": [m.upper() for m in methods]}
