"""RFC 6749 §2.3 client authentication, as presented: which one method a request uses.

A request authenticates with at most one method (§2.3: "MUST NOT use more than one"):
HTTP Basic (``client_secret_basic``), ``client_id`` + ``client_secret`` in the body
(``client_secret_post``), an RFC 7523 assertion (``private_key_jwt``), or only ``client_id``
(``none``, public clients). Two methods — even for the same client — are ``invalid_request``;
malformed credentials are ``invalid_client``.
"""

from __future__ import annotations

from dataclasses import dataclass

from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError

from authserver.edge.basic import parse_basic
from authserver.edge.jose_compact import peek_claim

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_CLIENT_ID = 255


@dataclass(frozen=True)
class PresentedCredentials:
    method: str  # none | client_secret_basic | client_secret_post | private_key_jwt
    client_id: str
    secret: str | None = None


def presented_credentials(authorization_headers: list[str], form) -> PresentedCredentials:
    basic = parse_basic(authorization_headers)
    body_id, body_secret = form.get("client_id"), form.get("client_secret")
    assertion = form.get("client_assertion")
    presented = [m for m, given in (("basic", basic), ("post", body_secret is not None),
                                    ("jwt", assertion is not None)) if given]
    if len(presented) > 1:
        raise InvalidRequestError(description="Use one client authentication method per request "
                                  "(RFC 6749 section 2.3).")
    if basic is not None:
        if body_id is not None and body_id != basic.client_id:
            raise InvalidRequestError(description="client_id in the body differs from the Basic credentials.")
        return PresentedCredentials("client_secret_basic", _client_id(basic.client_id), basic.client_secret)
    if assertion is not None:
        return _assertion(form, body_id, assertion)
    if body_id is None:
        raise client_authentication_failed()
    method = "none" if body_secret is None else "client_secret_post"
    return PresentedCredentials(method, _client_id(body_id), body_secret)


def _assertion(form, body_id: str | None, assertion: str) -> PresentedCredentials:
    if form.get("client_assertion_type") != ASSERTION_TYPE:
        raise client_authentication_failed()
    issuer = peek_claim(assertion, "iss", 16 * 1024)
    client_id = body_id or issuer
    if client_id is None or (body_id is not None and issuer not in (None, body_id)):
        raise client_authentication_failed()
    return PresentedCredentials("private_key_jwt", _client_id(client_id))


def _client_id(value: str) -> str:
    if not value or len(value) > MAX_CLIENT_ID:
        raise client_authentication_failed()
    return value


def client_authentication_failed() -> InvalidClientError:
    """The one answer to every failed client authentication: unknown client, wrong secret,
    wrong method and malformed credentials look the same (no client id enumeration)."""
    return InvalidClientError(status_code=401, description="Client authentication failed.")
