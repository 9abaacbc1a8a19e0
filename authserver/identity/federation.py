"""Federation with upstream IdPs: which connection a subject token belongs to, and its
verification by that connection's connector plugin.

The core decides which connections a client may use, so no connector can forget the
check; connectors are built once per connection (and rebuilt when it changes) so their
discovery and JWKS caches survive between requests.
"""

from __future__ import annotations

import json

from joserfc.util import urlsafe_b64decode
from sqlalchemy import select

from authserver.errors import ServiceError
from authserver.extensions import db
from authserver.models import Client, IdentityProvider, Realm
from authserver.outbound.client_jwks import client_keyset
from authserver.plugin_api import (
    TOKEN_TYPE_ACCESS_TOKEN,
    Identity,
    VerificationRequest,
)
from authserver.plugin_host.connectors import ConnectorRegistry
from authserver.plugin_host.loader import connector_class
from authserver.registry.clients import cached_client
from authserver.registry.idps import BACKEND_ASSERTION, shared_secret
from authserver.registry.row_cache import cached


class SubjectTokenRefused(ServiceError):
    """RFC 8693 §2.2.2: the subject token is not acceptable (``invalid_request``)."""


def select_idp(realm: Realm, client: Client, token: str, token_type: str,
               requested: str | None) -> IdentityProvider:
    """The connection that must verify ``token``: named, found by ``iss``, or the only one."""
    allowed = _allowed_idps(realm, client)
    if requested is not None:
        idp = allowed.get(requested)
        if idp is None:
            raise SubjectTokenRefused("the identity provider is not allowed for this client")
        return idp
    issuer = unverified_issuer(token) if token_type != TOKEN_TYPE_ACCESS_TOKEN else None
    candidates = [idp for idp in allowed.values() if _accepts(idp, token_type, issuer)]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise SubjectTokenRefused("no identity provider allowed for this client accepts the subject token")
    raise SubjectTokenRefused("several identity providers could accept the token: name one with 'idp'")


def _allowed_idps(realm: Realm, client: Client) -> dict[str, IdentityProvider]:
    if not client.idps:
        return {}
    def load() -> dict[str, IdentityProvider] | None:
        rows = select(IdentityProvider).where(IdentityProvider.realm_id == realm.id,
                                              IdentityProvider.name.in_(client.idps),
                                              IdentityProvider.disabled.is_(False))
        return {idp.name: idp for idp in db.session.scalars(rows)} or None

    return cached(("idps", realm.id, tuple(sorted(client.idps))), load) or {}


def _accepts(idp: IdentityProvider, token_type: str, issuer: str | None) -> bool:
    if token_type not in connector_class(idp.type).subject_token_types:
        return False
    if issuer is None:
        return True
    if idp.type == BACKEND_ASSERTION:
        return idp.client_id == issuer
    return idp.config.get("issuer") in (None, issuer)


def unverified_issuer(token: str) -> str | None:
    """The ``iss`` of a JWT, read before verification only to route it to its connection."""
    try:
        payload = json.loads(urlsafe_b64decode(token.split(".")[1].encode()))
    except (IndexError, ValueError, TypeError):
        return None
    issuer = payload.get("iss") if isinstance(payload, dict) else None
    return issuer if isinstance(issuer, str) else None


def verification_request(realm: Realm, issuer: str, client: Client,
                         idp: IdentityProvider) -> VerificationRequest:
    if idp.type != BACKEND_ASSERTION:
        return VerificationRequest(issuer=issuer, client_id=client.client_id)
    signer = cached_client(realm, idp.client_id) if idp.client_id else None
    if signer is None or signer.disabled:
        raise SubjectTokenRefused("the client that signs backend assertions is not available")
    return VerificationRequest(issuer=issuer, client_id=signer.client_id,
                               client_keys=client_keyset(signer), shared_secret=shared_secret(idp))


def verify_subject(registry: ConnectorRegistry, idp: IdentityProvider, token: str,
                   token_type: str, request: VerificationRequest) -> Identity:
    return registry.connector(idp).verify(token, token_type, request)


