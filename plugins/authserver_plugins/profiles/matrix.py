"""Matrix homeserver login JWT: Synapse's ``org.matrix.login.jwt`` login type.

Synapse's ``jwt_config`` holds exactly one static verification key (``secret``: here a PEM
public key) and one ``algorithm``, no JWKS; it takes ``sub`` verbatim as the localpart of
``@localpart:server`` and registers unknown users on first login (even with registration
off). It checks ``exp``/``nbf``/``iat`` (120 s leeway), ``iss`` and ``aud`` only when
configured, and refuses a token carrying ``aud`` when no ``audiences`` are configured.
Recent Synapse (checked: 1.163) reads ``display_name_claim``, a claim that sets a new
user's display name (we use ``name``; older Synapse ignores it). The JWT is spent once at
``/login`` and Synapse keeps no ``jti``, so tokens live at most :data:`MAX_LIFETIME` seconds.

``sub`` is the chat user mapped **injectively** onto a valid localpart with the Matrix spec's
"Mapping from other character sets" (Appendices), exactly as Synapse's own
``map_username_to_mxid_localpart(…, case_sensitive=True)``: upper case ``A`` → ``_a``,
``_`` → ``__``, ``a-z 0-9 - . / +`` kept, every other UTF-8 byte (``=``, ``@``, ``:``, non
ASCII …) → ``=xx``; a leading ``_`` becomes ``=5f`` (Synapse refuses ``_``-prefixed
localparts). One addition: an all-digit result (reserved for guests) has its first digit
written ``=3x``. :func:`subject_from_localpart` inverts the mapping. A localpart longer than
the bound (255 − len("@:") − len(server_name), or :data:`DEFAULT_MAX_LOCALPART` when the
server name is not configured) is refused with :class:`LocalpartError`.

Credential: ``private_key`` (PEM, EC P-256 or RSA ≥ 2048; :meth:`generate_credential` makes
an ES256 one per chat backend), optional ``algorithm`` (must fit the key), ``issuer``
(the ``iss`` claim, else the realm's issuer; Synapse checks it only when configured),
``audience`` (sent as ``aud`` only when set) and ``server_name`` (sets the length bound).
:meth:`public_info` gives the public PEM and a ``jwt_config`` snippet for homeserver.yaml.

Key rotation (Synapse trusts one key, so there is no overlap; the JWT is only needed at the
moment of login and existing Matrix sessions are unaffected):

1. ``authserver backends update … --rotate-key``: a new key, the other settings kept; it
   signs from now on, and the command prints the new ``jwt_config``.
2. Put that ``jwt_config`` into homeserver.yaml and restart Synapse. Logins in between fail
   with ``M_FORBIDDEN``; clients fetch a fresh token and retry. (To narrow that window, make
   the key yourself, configure Synapse with its public half first, then set it with
   ``--credential`` right after the restart.)
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from authserver.plugin_api import GrantedToken, PluginConfigError, ShapedToken

from ._common import (
    Credential,
    VendorProfile,
    algorithm_for,
    drop_none,
    load_private_pem,
    optional_str,
    private_pem,
    public_pem,
    require_mapping,
    signing_key,
)

#: Matrix spec: a user ID, ``@`` and ``:server`` included, is at most 255 bytes.
MAX_USER_ID_LENGTH = 255
#: Bound when ``server_name`` is not configured: fits server names up to 53 characters.
DEFAULT_MAX_LOCALPART = 200
#: The login JWT is single-use in practice but not enforced; keep it short.
MAX_LIFETIME = 300
DISPLAY_NAME_CLAIM = "name"
LITERAL = frozenset(string.ascii_lowercase + string.digits + "-./+")
ALLOWED_KEYS = ("private_key", "algorithm", "issuer", "audience", "server_name")


class LocalpartError(ValueError):
    """The chat user cannot be mapped to a Matrix localpart (empty, or too long)."""


def localpart(subject: str, max_length: int = DEFAULT_MAX_LOCALPART) -> str:
    """The localpart for ``subject`` (injective, see the module docstring)."""
    if not subject:
        raise LocalpartError("the chat user id is empty")
    mapped = "".join(_map_byte(b) for b in subject.encode("utf-8"))
    if mapped.startswith("_"):
        mapped = "=5f" + mapped[1:]
    elif mapped.isdigit():
        mapped = f"={ord(mapped[0]):02x}" + mapped[1:]
    if len(mapped) > max_length:
        raise LocalpartError(f"the mapped localpart exceeds {max_length} characters")
    return mapped


def _map_byte(byte: int) -> str:
    char = chr(byte)
    if "A" <= char <= "Z":
        return "_" + char.lower()
    if char == "_":
        return "__"
    return char if char in LITERAL else f"={byte:02x}"


def subject_from_localpart(mapped: str) -> str:
    """Inverse of :func:`localpart`."""
    if mapped.startswith("=5f"):
        mapped = "_" + mapped[3:]
    out, i = bytearray(), 0
    while i < len(mapped):
        if mapped[i] == "=":
            out.append(int(mapped[i + 1:i + 3], 16))
            i += 3
        elif mapped[i] == "_":
            nxt = mapped[i + 1]
            out += b"_" if nxt == "_" else nxt.upper().encode()
            i += 2
        else:
            out += mapped[i].encode()
            i += 1
    return out.decode("utf-8")


class MatrixProfile(VendorProfile):
    """Login JWT for a Matrix homeserver's ``jwt_config`` (Synapse)."""

    name = "matrix"
    max_lifetime = MAX_LIFETIME

    def __init__(self, credential: Mapping[str, Any] | None = None):
        super().__init__(credential)
        self._key = signing_key(self.credential["private_key"])

    @classmethod
    def validate_credential(cls, credential: Mapping[str, Any] | None) -> dict[str, Any]:
        credential = require_mapping(credential, ALLOWED_KEYS)
        private = load_private_pem(credential, "private_key")
        algorithm = credential.get("algorithm", algorithm_for(private))
        if algorithm != algorithm_for(private):
            raise PluginConfigError("algorithm", "must be ES256 for a P-256 key, RS256 for RSA")
        return Credential(drop_none({
            "private_key": private_pem(private),
            "algorithm": algorithm,
            "issuer": optional_str(credential, "issuer"),
            "audience": optional_str(credential, "audience"),
            "server_name": optional_str(credential, "server_name", pattern=r"[A-Za-z0-9.:\[\]-]+",
                                        hint="a Matrix server name"),
        }))

    @classmethod
    def generate_credential(cls) -> dict[str, Any]:
        private = ec.generate_private_key(ec.SECP256R1())
        return Credential(private_key=private_pem(private), algorithm="ES256")

    @property
    def max_localpart(self) -> int:
        server = self.credential.get("server_name")
        if server is None:
            return DEFAULT_MAX_LOCALPART
        return MAX_USER_ID_LENGTH - len("@:") - len(server)

    def public_info(self) -> dict[str, Any]:
        public = public_pem(load_private_pem(self.credential, "private_key"))
        return {"algorithm": self.credential["algorithm"], "public_key": public,
                "max_localpart": self.max_localpart, "jwt_config": self._jwt_config(public)}

    def _jwt_config(self, public: str) -> str:
        lines = ["jwt_config:", "  enabled: true", "  secret: |"]
        lines += [f"    {line}" for line in public.strip().splitlines()]
        lines += [f"  algorithm: {self.credential['algorithm']}", "  subject_claim: sub",
                  f"  display_name_claim: {DISPLAY_NAME_CLAIM}"]
        if "issuer" in self.credential:
            lines.append(f"  issuer: {json.dumps(self.credential['issuer'])}")
        if "audience" in self.credential:
            lines += ["  audiences:", f"    - {json.dumps(self.credential['audience'])}"]
        return "\n".join(lines) + "\n"

    def shape(self, token: GrantedToken) -> ShapedToken:
        claims = drop_none({
            "sub": localpart(token.subject, self.max_localpart),
            "iss": self.credential.get("issuer", token.issuer),
            "aud": self.credential.get("audience"),
            "iat": token.issued_at,
            "exp": self.expiry(token),
            "jti": token.jti,
            DISPLAY_NAME_CLAIM: token.name,
        })
        algorithm = self.credential["algorithm"]
        header = {"typ": "JWT", "alg": algorithm}
        return ShapedToken(header=header, claims=claims, key=self._key, algorithm=algorithm)
