"""RFC 7523 §2.2 client authentication with a JWT assertion (``private_key_jwt``).

The assertion must be signed with a key the client registered (``jwks`` or ``jwks_uri``),
with an allow-listed asymmetric algorithm; ``iss`` = ``sub`` = client_id, ``aud`` = our
issuer or token endpoint, ``exp`` at most five minutes ahead, ``jti`` single use.
"""

from __future__ import annotations

import logging

from authlib.oauth2.rfc6749.errors import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from flask import g
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from authserver.edge.jose_compact import MalformedToken, parse_compact
from authserver.plugin_api import ASYMMETRIC_ALGORITHMS
from authserver.state import app_state

PRIVATE_KEY_JWT = "private_key_jwt"
MAX_ASSERTION_LIFETIME = 300
MAX_ASSERTION_BYTES = 16 * 1024
log = logging.getLogger(__name__)


class PrivateKeyJWTAuthentication(JWTBearerClientAssertion):
    CLIENT_AUTH_METHOD = PRIVATE_KEY_JWT

    def __init__(self):
        super().__init__(validate_jti=True, leeway=60)

    def get_audiences(self) -> list[str]:
        issuer = g.realm_issuer
        return [issuer, f"{issuer}/token"]

    def resolve_client_public_key(self, client) -> KeySet:
        keys = app_state().client_keys.keyset(client)
        if keys is None:
            raise InvalidClientError(description="The client has no registered keys.")
        return keys

    def process_assertion_claims(self, assertion, resolve_key):
        try:
            parse_compact(assertion, MAX_ASSERTION_BYTES)  # strictly, before joserfc reads it
        except MalformedToken as exc:
            log.info("client assertion refused: %s", exc.message)
            raise InvalidClientError(status_code=401, description="Client authentication failed.") from None
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=list(ASYMMETRIC_ALGORITHMS))
        except (JoseError, ValueError) as exc:
            log.info("client assertion refused: %s", exc.__class__.__name__)
            raise InvalidClientError(description="The client assertion is invalid.") from None
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims) -> None:
        """Authlib's RFC 7523 §3 checks, on the server's clock (Authlib's use the wall clock),
        and a bounded lifetime, before the ``jti`` is spent."""
        leeway = app_state().settings.clock_skew
        registry = jwt.JWTClaimsRegistry(
            now=lambda: int(app_state().clock()), leeway=leeway, iss={"essential": True},
            sub={"essential": True}, aud={"essential": True, "values": self.get_audiences()},
            exp={"essential": True}, jti={"essential": True})
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise InvalidClientError(description=f"The client assertion is invalid: {exc.error}.") from None
        if claims["sub"] != claims["iss"]:
            raise InvalidClientError(description="Issuer and Subject MUST match.")
        if claims["exp"] - app_state().clock() > MAX_ASSERTION_LIFETIME + leeway:
            raise InvalidClientError(description="The client assertion lives too long.")
        if not isinstance(claims["jti"], str) or not self.validate_jti(claims, claims["jti"]):
            raise InvalidClientError(description="The client assertion was used before.")

    def validate_jti(self, claims, jti) -> bool:
        key = f"client-assertion|{g.realm_issuer}|{claims['sub']}|{jti}"
        return app_state().replay.claim(key, claims["exp"] + app_state().settings.clock_skew)
