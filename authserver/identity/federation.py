"""Federation with upstream IdPs (RFC 8693 subject tokens): which connection a subject token
belongs to, and its verification by that connection's connector plugin.

The core decides which connections a client may use, so no connector can forget the check;
what differs between connectors is a capability the connector class declares
(:class:`~authserver.plugin_api.Connector`), never its name. After the connector, the core
checks what every identity must be (``sub`` per OIDC Core §2) and spends single-use ``jti``s.
"""

from __future__ import annotations

import re

from sqlalchemy import select

from authserver.edge.jose_compact import peek_claim
from authserver.errors import ServiceError
from authserver.extensions import db
from authserver.models import Client, IdentityProvider
from authserver.plugin_api import TOKEN_TYPE_ACCESS_TOKEN, Identity, InvalidSubjectToken, VerificationRequest
from authserver.plugin_host.loader import connector_class
from authserver.registry.clients import cached_client
from authserver.registry.row_cache import cached
from authserver.state import RealmContext

#: OIDC Core §2: ``sub`` is at most 255 ASCII characters; we also refuse control characters.
SUBJECT = re.compile(r"[\x20-\x7e]{1,255}")


class SubjectTokenRefused(ServiceError):
    """RFC 8693 §2.2.2: the subject token is not acceptable (``invalid_request``)."""


def select_idp(ctx: RealmContext, client: Client, token: str, token_type: str,
               requested: str | None) -> IdentityProvider:
    """The connection that must verify ``token``: named, found by ``iss``, or the only one."""
    allowed = allowed_idps(ctx, client)
    if requested is not None:
        idp = allowed.get(requested)
        if idp is None:
            raise SubjectTokenRefused("the identity provider is not allowed for this client")
        return idp
    issuer = None
    if token_type != TOKEN_TYPE_ACCESS_TOKEN:
        issuer = peek_claim(token, "iss", ctx.settings.max_subject_token_bytes)
    candidates = [idp for idp in allowed.values() if accepts(ctx, idp, token_type, issuer)]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise SubjectTokenRefused("no identity provider allowed for this client accepts the subject token")
    raise SubjectTokenRefused("several identity providers could accept the token: name one with 'idp'")


def allowed_idps(ctx: RealmContext, client: Client) -> dict[str, IdentityProvider]:
    """The enabled connections the client may use, by name."""
    if not client.idps:
        return {}

    def load() -> dict[str, IdentityProvider] | None:
        rows = select(IdentityProvider).where(IdentityProvider.realm_id == ctx.realm.id,
                                              IdentityProvider.name.in_(client.idps),
                                              IdentityProvider.disabled.is_(False))
        return {idp.name: idp for idp in db.session.scalars(rows)} or None

    return cached(("idps", ctx.realm.id, tuple(sorted(client.idps))), load) or {}


def accepts(ctx: RealmContext, idp: IdentityProvider, token_type: str, issuer: str | None) -> bool:
    """Whether ``idp`` takes tokens of this type and this ``iss`` (None: not a JWT)."""
    cls = connector_class(idp.type)
    if token_type not in cls.subject_token_types:
        return False
    if issuer is None:
        return True
    expected = idp.client_id if cls.signed_by_client else ctx.state.connectors.connector(idp).issuer()
    return expected in (None, issuer)


def verify_subject(ctx: RealmContext, client: Client, idp: IdentityProvider, token: str,
                   token_type: str) -> Identity:
    """The connector's verdict, then the core's own checks on what it returned."""
    request = verification_request(ctx, client, idp)
    identity = ctx.state.connectors.connector(idp).verify(token, token_type, request)
    if not isinstance(identity.subject, str) or not SUBJECT.fullmatch(identity.subject):
        raise InvalidSubjectToken(detail="sub is not 1-255 printable ASCII characters (OIDC Core §2)")
    return identity


def verification_request(ctx: RealmContext, client: Client, idp: IdentityProvider) -> VerificationRequest:
    cls = connector_class(idp.type)
    if not cls.signed_by_client:
        return VerificationRequest(issuer=ctx.issuer, client_id=client.client_id)
    signer = cached_client(ctx.realm, idp.client_id) if idp.client_id else None
    if signer is None or signer.disabled:
        raise SubjectTokenRefused("the client that signs these assertions is not available")
    secret = shared_secret(ctx, idp) if cls.accepts_shared_secret else None
    return VerificationRequest(issuer=ctx.issuer, client_id=signer.client_id,
                               client_keys=ctx.state.client_keys.keyset(signer), shared_secret=secret)


def shared_secret(ctx: RealmContext, idp: IdentityProvider) -> bytes | None:
    if idp.secret_sealed is None:
        return None
    return ctx.state.box.open(idp.secret_sealed, context=f"idp-secret:{idp.realm_id}:{idp.name}")


def single_use_key(ctx: RealmContext, idp: IdentityProvider, identity: Identity) -> str | None:
    """The replay-cache key of a single-use subject token (its ``jti``), or None."""
    if identity.single_use_id is None:
        return None
    return f"subject|{ctx.issuer}|{idp.name}|{identity.single_use_id}"
