"""OIDC Core §2 ID tokens, for clients of the browser login: signed with the realm's key,
``aud`` = the client, the ``nonce`` of the authorization request, ``auth_time``, and
``at_hash`` (§3.1.3.6) binding the access token issued with it. The profile claims follow
the scopes granted (§5.4): ``profile`` → names and picture, ``email`` → email.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import JoseError

from authserver.config import SIGNING_ALGORITHMS
from authserver.edge.jose_compact import MalformedToken, parse_compact
from authserver.state import RealmContext
from authserver.tokens.signing import sign_with_realm_key

ID_TOKEN_TTL = 300
#: §3.1.3.6: the hash of the ID token's ``alg``; Ed25519 (EdDSA) uses SHA-512 (OIDC errata).
_HASHES = {"ES256": hashlib.sha256, "RS256": hashlib.sha256, "PS256": hashlib.sha256,
           "ES384": hashlib.sha384, "EdDSA": hashlib.sha512}


@dataclass(frozen=True)
class IdTokenFacts:
    client_id: str
    user: object  # User or UserRow
    scopes: list[str]
    auth_time: int
    nonce: str | None
    access_token: str
    sid: str | None
    verified: bool


def token_hash(alg: str, token: str) -> str:
    digest = _HASHES[alg](token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def subject_of(user) -> str:
    """The same ``sub`` as the chat JWT's: ``user_id`` when identified, else ``_id``."""
    return user.user_id or user.uid


def sign_id_token(ctx: RealmContext, facts: IdTokenFacts) -> str:
    now = ctx.now()
    user = facts.user
    claims = {"iss": ctx.issuer, "sub": subject_of(user), "aud": facts.client_id, "azp": facts.client_id,
              "iat": now, "exp": now + ID_TOKEN_TTL, "auth_time": facts.auth_time, "uid": user.uid,
              "at_hash": token_hash(ctx.signing_key().alg, facts.access_token)}
    if facts.nonce is not None:
        claims["nonce"] = facts.nonce
    if facts.sid is not None:
        claims["sid"] = facts.sid
    claims.update(profile_claims(user, facts.scopes, facts.verified))
    return sign_with_realm_key(ctx, {"typ": "JWT"}, claims)


def profile_claims(user, scopes: list[str], verified: bool) -> dict:
    """§5.4 standard claims for the granted scopes (also what ``/userinfo`` answers)."""
    claims: dict = {}
    if "profile" in scopes:
        for name in ("name", "given_name", "family_name", "picture"):
            if getattr(user, name, None):
                claims[name] = getattr(user, name)
        if user.user_id:
            claims["preferred_username"] = user.user_id
    if "email" in scopes and getattr(user, "email", None):
        claims["email"] = user.email
        claims["email_verified"] = bool(verified)
    return claims


def read_id_token_hint(ctx: RealmContext, token: str) -> dict | None:
    """RP-Initiated Logout §2: an ID token we issued (signature, ``typ``, ``iss``), expired or
    not — it names the client and the session, it grants nothing."""
    try:
        parsed = parse_compact(token, ctx.settings.max_subject_token_bytes)
        if parsed.header.get("typ") != "JWT":
            return None
        decoded = jwt.decode(token, ctx.state.keys.verification_keys(ctx.realm.name),
                             algorithms=list(SIGNING_ALGORITHMS))
    except (MalformedToken, JoseError, ValueError, TypeError):
        return None
    claims = dict(decoded.claims)
    if claims.get("iss") != ctx.issuer or not isinstance(claims.get("aud"), str):
        return None
    return claims
