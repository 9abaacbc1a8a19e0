"""Clients of a realm: registration, secrets, life cycle. Shared by the CLI, the admin API
and RFC 7591 dynamic registration, none of which holds logic of its own.

Client secrets have 256 bits of entropy, are shown once, and are stored only as a keyed
hash (:class:`~authserver.crypto.SecretHasher`), compared in constant time.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from authserver.crypto import new_secret
from authserver.errors import Conflict, InvalidInput, NotFound
from authserver.events.outbox import publish
from authserver.extensions import db
from authserver.keys.public_jwks import public_jwks
from authserver.models import ChatBackend, Client, IdentityProvider, Realm
from authserver.models.client import AUTH_METHODS, PRIVATE_KEY_JWT, PUBLIC, SECRET_METHODS
from authserver.registry import audit, paging, validation
from authserver.registry.paging import Order, Page
from authserver.registry.row_cache import cached
from authserver.registry.transactions import commit_admin_change, commit_or_conflict
from authserver.state import app_state

GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
GRANT_REFRESH_TOKEN = "refresh_token"
GRANT_AUTHORIZATION_CODE = "authorization_code"
GRANT_TYPES = (GRANT_CLIENT_CREDENTIALS, GRANT_TOKEN_EXCHANGE, GRANT_AUTHORIZATION_CODE, GRANT_REFRESH_TOKEN)
APPLICATION_TYPES = ("web", "native")
#: RFC 8252 §7.1: a native app's private-use URI scheme is a reverse domain name it controls.
PRIVATE_USE_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*\.[a-z0-9+.-]+\Z")
ADMIN_SCOPE = "admin"
CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}\Z")
FIELDS = {"client_id", "name", "auth_method", "grant_types", "audiences", "scopes", "idps",
          "redirect_uris", "jwks", "jwks_uri", "allow_anonymous", "allow_delegation", "serves",
          "post_logout_redirect_uris", "application_type", "require_par", "refresh_token_ttl",
          "refresh_token_absolute_ttl"}
UPDATABLE = FIELDS - {"client_id", "auth_method"}
ORDER = Order("clients", (Client.client_id,))


@dataclass(frozen=True)
class IssuedClient:
    """A client just created or whose secret was just replaced: the secret is shown once."""

    client: Client
    client_secret: str | None = None
    registration_access_token: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = self.client.to_dict()
        if self.client_secret:
            data["client_secret"] = self.client_secret
        if self.registration_access_token:
            data["registration_access_token"] = self.registration_access_token
        return data


def get_client(realm: Realm, client_id: str) -> Client:
    client = find_client(realm, client_id)
    if client is None:
        raise NotFound(f"no client {client_id!r} in realm {realm.name!r}")
    return client


def find_client(realm: Realm, client_id: str) -> Client | None:
    return db.session.scalar(select(Client).where(Client.realm_id == realm.id,
                                                  Client.client_id == client_id))


def cached_client(realm: Realm, client_id: str) -> Client | None:
    """:func:`find_client` through the row cache (read-only use on the token endpoint)."""
    return cached(("client", realm.id, client_id), lambda: find_client(realm, client_id))


def list_clients(realm: Realm, limit: int | None = None, cursor: str | None = None, *,
                 auth_method: str | None = None, disabled: bool | str | None = None) -> Page:
    """A page of the realm's clients by ``client_id``, optionally of one auth method or state."""
    query = select(Client).where(Client.realm_id == realm.id)
    if paging.choice_filter(auth_method, "auth_method", AUTH_METHODS) is not None:
        query = query.where(Client.auth_method == auth_method)
    if (disabled := paging.flag_filter(disabled, "disabled")) is not None:
        query = query.where(Client.disabled.is_(disabled))
    return paging.page(query, ORDER, limit, cursor)


def create_client(realm: Realm, data: dict[str, Any], actor: str,
                  with_registration_token: bool = False) -> IssuedClient:
    validation.only_fields(data, FIELDS, "client")
    method = data.get("auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        raise InvalidInput(f"auth_method: must be one of {', '.join(AUTH_METHODS)}")
    now = int(app_state().clock())
    client = Client(realm_id=realm.id, client_id=_client_id(data.get("client_id")),
                    name=validation.text(data.get("name"), "name", 100), auth_method=method,
                    grant_types=default_grant_types(method),
                    audiences=[], scopes=[], idps=[], redirect_uris=[], serves=[], allow_anonymous=False,
                    allow_delegation=False, disabled=False, post_logout_redirect_uris=[],
                    application_type="web", require_par=False, created_at=now, updated_at=now)
    _apply(realm, client, data)
    secret = _set_new_secret(client) if method in SECRET_METHODS else None
    registration_token = _set_registration_token(client) if with_registration_token else None
    db.session.add(client)
    audit.record(realm, actor, "client.create", "client", client.client_id, after=client.to_dict())
    publish(realm, "client.created", client.to_dict(), actor)
    commit_or_conflict(f"a client with client_id {client.client_id!r} already exists")
    return IssuedClient(client, secret, registration_token)


def update_client(realm: Realm, client_id: str, data: dict[str, Any], actor: str) -> Client:
    validation.only_fields(data, UPDATABLE | {"disabled"}, "client update")
    client = get_client(realm, client_id)
    before = client.to_dict()
    _apply(realm, client, data)
    if "disabled" in data:
        client.disabled = validation.boolean(data["disabled"], "disabled")
    client.updated_at = int(app_state().clock())
    audit.record(realm, actor, "client.update", "client", client_id, before=before, after=client.to_dict())
    publish(realm, "client.updated", client.to_dict(), actor)
    commit_or_conflict("conflicting update")
    return client


def set_disabled(realm: Realm, client_id: str, disabled: bool, actor: str) -> Client:
    return update_client(realm, client_id, {"disabled": disabled}, actor)


def delete_client(realm: Realm, client_id: str, actor: str) -> None:
    client = get_client(realm, client_id)
    signing_for = sorted(db.session.scalars(select(IdentityProvider.name).where(
        IdentityProvider.realm_id == realm.id, IdentityProvider.client_id == client_id)))
    if signing_for:
        raise Conflict(f"client {client_id!r} signs the assertions of identity provider(s) "
                       f"{', '.join(signing_for)}; delete or change them first")
    audit.record(realm, actor, "client.delete", "client", client_id, before=client.to_dict())
    publish(realm, "client.deleted", client.to_dict(), actor)
    db.session.delete(client)
    commit_admin_change()


def rotate_secret(realm: Realm, client_id: str, actor: str, grace_seconds: int = 0) -> IssuedClient:
    """Replace the secret; the old one keeps working for ``grace_seconds``."""
    client = get_client(realm, client_id)
    if client.auth_method not in SECRET_METHODS:
        raise InvalidInput(f"client {client_id!r} authenticates with {client.auth_method}: it has no secret")
    grace_seconds = validation.integer(grace_seconds, "grace_seconds", 0, 30 * 86400)
    now = int(app_state().clock())
    client.previous_secret_hash = client.secret_hash if grace_seconds else None
    client.previous_secret_expires_at = now + grace_seconds if grace_seconds else None
    secret = _set_new_secret(client)
    client.updated_at = now
    audit.record(realm, actor, "client.rotate_secret", "client", client_id,
                 after={"grace_seconds": grace_seconds})
    publish(realm, "client.updated", client.to_dict(), actor)
    commit_admin_change()
    return IssuedClient(client, secret)


def default_grant_types(auth_method: str) -> list[str]:
    return [GRANT_TOKEN_EXCHANGE] if auth_method == PUBLIC else [GRANT_CLIENT_CREDENTIALS]


def verify_client_secret(client: Client, presented: str) -> bool:
    """Constant-time check against the current secret, or the previous one within its grace."""
    hasher = app_state().hasher
    current = hasher.verify(presented, client.secret_hash)
    previous = hasher.verify(presented, client.previous_secret_hash)
    in_grace = (client.previous_secret_expires_at or 0) > app_state().clock()
    return current or (previous and in_grace)


def _set_new_secret(client: Client) -> str:
    secret = new_secret(32)
    client.secret_hash = app_state().hasher.hash(secret)
    return secret


def _set_registration_token(client: Client) -> str:
    token = new_secret(32)
    client.registration_token_hash = app_state().hasher.hash(token)
    return token


def _client_id(value: Any) -> str:
    if value is None:
        generated = secrets.token_urlsafe(12)
        while not CLIENT_ID.match(generated):  # never a leading '-' (an option, to a CLI) or '_'
            generated = secrets.token_urlsafe(12)
        return generated
    if not isinstance(value, str) or not CLIENT_ID.match(value):
        raise InvalidInput("client_id: 3-64 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return value


def _apply(realm: Realm, client: Client, data: dict[str, Any]) -> None:
    if "name" in data:
        client.name = validation.text(data["name"], "name", 100)
    if "grant_types" in data:
        client.grant_types = _grant_types(client, data["grant_types"])
    _apply_browser_login(client, data)
    for flag in ("allow_anonymous", "allow_delegation"):
        if flag in data:
            setattr(client, flag, validation.boolean(data[flag], flag))
    if client.allow_anonymous and not client.is_public:
        raise InvalidInput("allow_anonymous: only public clients create anonymous users")
    if "audiences" in data:
        client.audiences = _audiences(realm, data["audiences"], "audiences")
    if "serves" in data:
        client.serves = _audiences(realm, data["serves"], "serves")
    if "scopes" in data or "audiences" in data:
        client.scopes = _scopes(realm, client, data.get("scopes", client.scopes))
    if "idps" in data:
        client.idps = _idps(realm, data["idps"])
    _apply_keys(client, data)


def _apply_browser_login(client: Client, data: dict[str, Any]) -> None:
    """The code flow's settings (OIDC Registration §2, RFC 8252, RFC 9126, RFC 9700 §4.14)."""
    if "application_type" in data:
        if data["application_type"] not in APPLICATION_TYPES:
            raise InvalidInput(f"application_type: must be one of {', '.join(APPLICATION_TYPES)}")
        client.application_type = data["application_type"]
    native = client.application_type == "native"
    for field in ("redirect_uris", "post_logout_redirect_uris"):
        if field in data:
            uris = validation.string_list(data[field], field)
            setattr(client, field, [_redirect_uri(u, field, native) for u in uris])
    if "require_par" in data:
        client.require_par = validation.boolean(data["require_par"], "require_par")
    for field in ("refresh_token_ttl", "refresh_token_absolute_ttl"):
        if field in data:
            value = data[field]
            setattr(client, field, None if value is None else validation.integer(value, field, 60, 10 ** 8))
    if (client.refresh_token_ttl and client.refresh_token_absolute_ttl
            and client.refresh_token_ttl > client.refresh_token_absolute_ttl):
        raise InvalidInput("refresh_token_ttl: must not exceed refresh_token_absolute_ttl")
    grants = client.grant_types or []
    if GRANT_AUTHORIZATION_CODE in grants and not client.redirect_uris:
        raise InvalidInput("redirect_uris: the authorization_code grant needs at least one redirect URI")
    if GRANT_REFRESH_TOKEN in grants and GRANT_AUTHORIZATION_CODE not in grants:
        raise InvalidInput("grant_types: refresh_token is issued only with authorization_code")


def _redirect_uri(value: Any, field: str, native: bool) -> str:
    """Registered exactly as matched: https (http on loopback); for native apps also a
    private-use scheme (RFC 8252 §7.1). No fragment (RFC 6749 §3.1.2), no wildcards."""
    if native and isinstance(value, str) and ":" in value:
        scheme = value.split(":", 1)[0]
        if scheme not in ("http", "https"):
            if not PRIVATE_USE_SCHEME.match(scheme) or "#" in value or len(value) > 2048:
                raise InvalidInput(f"{field}: {value!r} must be https, loopback http, or a private-use "
                                   "scheme that is a reverse domain name (RFC 8252 §7.1)")
            validation.parse_url(value, field)
            return value
    return validation.https_url(value, field)


def _grant_types(client: Client, value: Any) -> list[str]:
    grants = validation.string_list(value, "grant_types")
    unknown = [g for g in grants if g not in GRANT_TYPES]
    if unknown:
        raise InvalidInput(f"grant_types: unsupported {', '.join(unknown)} "
                           f"(supported: {', '.join(GRANT_TYPES)})")
    if client.is_public and GRANT_CLIENT_CREDENTIALS in grants:
        raise InvalidInput("grant_types: a public client cannot use client_credentials")
    return grants


def _audiences(realm: Realm, value: Any, field: str) -> list[str]:
    audiences = validation.string_list(value, field)
    known = set(db.session.scalars(select(ChatBackend.audience).where(ChatBackend.realm_id == realm.id)))
    unknown = [a for a in audiences if a not in known]
    if unknown:
        raise InvalidInput(f"{field}: no chat backend registered for {', '.join(unknown)}")
    return audiences


def _scopes(realm: Realm, client: Client, value: Any) -> list[str]:
    """Each scope must be understood by one of the client's chat backends, or be ``admin``."""
    requested = validation.scopes(value, "scopes")
    backends = db.session.scalars(select(ChatBackend).where(
        ChatBackend.realm_id == realm.id, ChatBackend.audience.in_(client.audiences or [""])))
    known = {ADMIN_SCOPE}.union(*(set(b.scopes) for b in backends))
    unknown = [s for s in requested if s not in known]
    if unknown:
        raise InvalidInput(f"scopes: {' '.join(unknown)} not offered by the client's audiences")
    return requested


def _idps(realm: Realm, value: Any) -> list[str]:
    names = validation.string_list(value, "idps")
    known = set(db.session.scalars(select(IdentityProvider.name).where(IdentityProvider.realm_id == realm.id)))
    unknown = sorted(set(names) - known)
    if unknown:
        raise InvalidInput(f"idps: no identity provider named {', '.join(unknown)}")
    return names


def _apply_keys(client: Client, data: dict[str, Any]) -> None:
    if "jwks" in data:
        client.jwks = public_jwks(data["jwks"]) if data["jwks"] is not None else None
    if "jwks_uri" in data:
        client.jwks_uri = None if data["jwks_uri"] is None else validation.https_url(data["jwks_uri"], "jwks_uri")
    if client.jwks and client.jwks_uri:
        raise InvalidInput("jwks: give either jwks or jwks_uri, not both (RFC 7591 §2)")
    if client.auth_method == PRIVATE_KEY_JWT and not (client.jwks or client.jwks_uri):
        raise InvalidInput("jwks: private_key_jwt needs the client's public keys (jwks or jwks_uri)")
