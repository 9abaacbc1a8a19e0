"""Who a token exchange is about: the subject token, verified and mapped to a chat user.

One resolver per ``subject_token_type`` (RFC 8693 §3): upstream tokens go through the
realm's IdP connections; further resolvers (device sessions, our own tokens) plug in here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749.errors import InvalidRequestError

from authserver.federation import SubjectTokenRefused, select_idp, verification_request, verify_subject
from authserver.models import Client, Realm, User
from authserver.oauth_errors import TemporarilyUnavailableError, UnsupportedTokenTypeError
from authserver.plugin_api import (
    MAX_SUBJECT_TOKEN_BYTES,
    TOKEN_TYPE_ACCESS_TOKEN,
    TOKEN_TYPE_ID_TOKEN,
    TOKEN_TYPE_JWT,
    InvalidSubjectToken,
    UpstreamUnavailable,
)
from authserver.services import services
from authserver.users import resolve_user

log = logging.getLogger(__name__)


@dataclass
class Subject:
    user: User
    idp: str | None
    sid: str | None = None
    workspace: str | None = None
    acl: tuple | None = None
    held_scopes: list[str] | None = None  # re-exchange of our own token: never more than these
    held_audience: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def read_subject_token(form) -> tuple[str, str]:
    token, token_type = form.get("subject_token"), form.get("subject_token_type")
    if not token or not token_type:
        raise InvalidRequestError(description="subject_token and subject_token_type are required.")
    if len(token.encode()) > MAX_SUBJECT_TOKEN_BYTES:
        raise InvalidRequestError(description="The subject token is too large.")
    return token, token_type


def resolve_subject(realm: Realm, issuer: str, client: Client, token: str, token_type: str,
                    form) -> Subject:
    resolver = RESOLVERS.get(token_type)
    if resolver is None:
        raise UnsupportedTokenTypeError(description="Unsupported subject_token_type.")
    return resolver(realm, issuer, client, token, token_type, form)


def upstream_subject(realm: Realm, issuer: str, client: Client, token: str, token_type: str,
                     form) -> Subject:
    """A token of an upstream IdP: verified by its connection, mapped to a user."""
    try:
        idp = select_idp(realm, client, token, token_type, form.get("idp"))
        request = verification_request(realm, issuer, client, idp)
        identity = verify_subject(services().connectors, idp, token, token_type, request)
    except InvalidSubjectToken as exc:
        log.info("subject token refused: %s", exc.detail or exc.description)
        raise InvalidRequestError(description=exc.description) from None
    except SubjectTokenRefused as exc:
        raise InvalidRequestError(description=exc.message) from None
    except UpstreamUnavailable as exc:
        log.warning("upstream identity provider unavailable: %s", exc)
        raise TemporarilyUnavailableError(description="The identity provider cannot be reached.") from None
    user = resolve_user(realm, idp, identity)
    return Subject(user=user, idp=idp.name, workspace=identity.workspace, acl=identity.acl)


RESOLVERS = {
    TOKEN_TYPE_ID_TOKEN: upstream_subject,
    TOKEN_TYPE_JWT: upstream_subject,
    TOKEN_TYPE_ACCESS_TOKEN: upstream_subject,
}
