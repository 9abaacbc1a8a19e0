"""RFC 7591 dynamic client registration and RFC 7592 client configuration: the service side.

Initial access tokens (RFC 7591 §3) are created by an admin, shown once and stored only as
a keyed hash; registration access tokens (RFC 7592 §3) likewise, on the client row. The
mapping between RFC 7591 client metadata and our client fields lives here; clients are
created, changed and deleted by :mod:`authserver.registry.clients`, as for the CLI and the admin API.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from authserver.crypto import new_secret
from authserver.errors import InvalidInput
from authserver.extensions import db
from authserver.models import Client, InitialAccessToken, Realm
from authserver.registry import audit, clients, validation
from authserver.state import app_state

DEFAULT_INITIAL_TOKEN_TTL = 3600
MAX_INITIAL_TOKEN_TTL = 30 * 86400
DEFAULT_CLIENT_NAME = "Dynamically registered client"

# RFC 7591 §2 metadata name → our client field; ``audiences`` and ``allow_delegation`` are
# extensions. Metadata not listed here is ignored, as RFC 7591 §2 requires.
METADATA_FIELDS = {
    "client_name": "name", "token_endpoint_auth_method": "auth_method",
    "grant_types": "grant_types", "scope": "scopes", "redirect_uris": "redirect_uris",
    "jwks": "jwks", "jwks_uri": "jwks_uri", "audiences": "audiences",
    "allow_delegation": "allow_delegation",
    # OIDC Registration §2, RP-Initiated Logout §3.1, RFC 9126 §6
    "application_type": "application_type", "post_logout_redirect_uris": "post_logout_redirect_uris",
    "require_pushed_authorization_requests": "require_par",
}
_RFC_NAMES = {ours: theirs for theirs, ours in METADATA_FIELDS.items()}


# --- initial access tokens (RFC 7591 §3) ---------------------------------------------------

def create_initial_token(realm: Realm, ttl: int | None, actor: str) -> dict[str, Any]:
    """A new initial access token; the token itself is in the result only."""
    ttl = validation.integer(DEFAULT_INITIAL_TOKEN_TTL if ttl is None else ttl, "ttl", 60,
                             MAX_INITIAL_TOKEN_TTL)
    token = new_secret(32)
    now = int(app_state().clock())
    row = InitialAccessToken(realm_id=realm.id, token_hash=app_state().hasher.hash(token),
                             created_at=now, expires_at=now + ttl, created_by=actor)
    db.session.add(row)
    db.session.flush()
    audit.record(realm, actor, "initial_token.create", "initial_access_token", str(row.id),
                 after={"id": row.id, "expires_at": row.expires_at})
    db.session.commit()
    return {"id": row.id, "initial_access_token": token, "expires_at": row.expires_at,
            "expires_in": ttl}


def verify_initial_token(realm: Realm, token: str | None) -> InitialAccessToken | None:
    """The unexpired initial access token of ``realm`` matching ``token``, else ``None``.

    Looked up by its keyed hash: without the server key no one can aim at a stored hash.
    """
    if not token:
        return None
    row = db.session.scalar(select(InitialAccessToken).where(
        InitialAccessToken.realm_id == realm.id,
        InitialAccessToken.token_hash == app_state().hasher.hash(token)))
    if row is None or row.expires_at <= app_state().clock():
        return None
    return row


# --- registration (RFC 7591 §3.1) and configuration (RFC 7592 §2) ---------------------------

def register_client(realm: Realm, metadata: Any, initial_token: InitialAccessToken) -> clients.IssuedClient:
    data = client_fields(metadata)
    data.setdefault("name", DEFAULT_CLIENT_NAME)
    return clients.create_client(realm, data, actor=f"initial_token:{initial_token.id}",
                                 with_registration_token=True)


def authenticate(realm: Realm, client_id: str, token: str | None) -> Client | None:
    """The client whose registration access token is ``token`` (constant-time compare)."""
    client = clients.find_client(realm, client_id)
    stored = client.registration_token_hash if client is not None else None
    if not token or not app_state().hasher.verify(token, stored):
        return None
    return client


def update_registration(realm: Realm, client: Client, metadata: Any) -> Client:
    """RFC 7592 §2.2: the request replaces the metadata; omitted fields get their defaults."""
    data = client_fields(metadata)
    _check_identity(client, metadata)
    if data.pop("auth_method", client.auth_method) != client.auth_method:
        raise InvalidInput("token_endpoint_auth_method: cannot be changed; register a new client")
    replaced = {"name": DEFAULT_CLIENT_NAME, "grant_types": clients.default_grant_types(client.auth_method),
                "audiences": [], "scopes": [], "redirect_uris": [], "jwks": None, "jwks_uri": None,
                "allow_delegation": False, "application_type": "web", "post_logout_redirect_uris": [],
                "require_par": False}
    return clients.update_client(realm, client.client_id, {**replaced, **data},
                                 actor=f"client:{client.client_id}")


def delete_registration(realm: Realm, client: Client) -> None:
    clients.delete_client(realm, client.client_id, actor=f"client:{client.client_id}")


def client_metadata(client: Client) -> dict[str, Any]:
    """RFC 7591 §3.2.1 / RFC 7592 §3 client information (without secrets)."""
    data = client.to_dict()
    metadata = {theirs: data[ours] for theirs, ours in METADATA_FIELDS.items()}
    metadata["scope"] = " ".join(client.scopes)
    if client.jwks is None:
        metadata.pop("jwks")
    if client.jwks_uri is None:
        metadata.pop("jwks_uri")
    metadata.update(client_id=client.client_id, client_id_issued_at=client.created_at)
    if client.secret_hash:
        metadata["client_secret_expires_at"] = 0  # secrets do not expire (RFC 7591 §3.2.1)
    return metadata


def client_fields(metadata: Any) -> dict[str, Any]:
    """Our client fields from RFC 7591 metadata, ignoring metadata we do not understand."""
    if not isinstance(metadata, dict):
        raise InvalidInput("client metadata: expected a JSON object")
    data = {ours: metadata[theirs] for theirs, ours in METADATA_FIELDS.items() if theirs in metadata}
    if "scopes" in data and not isinstance(data["scopes"], str):
        raise InvalidInput("scope: must be a space-separated string (RFC 7591 §2)")
    if clients.ADMIN_SCOPE in validation.scopes(data.get("scopes"), "scope"):
        raise InvalidInput("scope: 'admin' cannot be registered dynamically")
    return data


def rfc_field(error: InvalidInput) -> str:
    """The RFC 7591 metadata name an :class:`InvalidInput` message is about."""
    field = error.message.split(":", 1)[0].split(".", 1)[0].split("[", 1)[0]
    return _RFC_NAMES.get(field, field)


def rfc_message(error: InvalidInput) -> str:
    """The message with our field name replaced by the RFC 7591 metadata name."""
    field = error.message.split(":", 1)[0]
    if field in _RFC_NAMES:
        return _RFC_NAMES[field] + error.message[len(field):]
    return error.message


def _check_identity(client: Client, metadata: dict[str, Any]) -> None:
    if metadata.get("client_id") != client.client_id:
        raise InvalidInput("client_id: must be present and equal the client's identifier (RFC 7592 §2.2)")
    secret = metadata.get("client_secret")
    if secret is not None and not (isinstance(secret, str) and clients.verify_client_secret(client, secret)):
        raise InvalidInput("client_secret: does not match the client's current secret")
