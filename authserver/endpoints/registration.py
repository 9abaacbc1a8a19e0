"""RFC 7591 dynamic client registration and RFC 7592 client configuration endpoints.

``POST /realms/{r}/register`` needs an initial access token (RFC 7591 §3); the client
configuration endpoint ``/realms/{r}/register/{client_id}`` needs the registration access
token issued with the client (RFC 7592 §3). A small Flask view rather than Authlib's
``ClientRegistrationEndpoint``: that class generates client ids and secrets and validates
metadata itself, while here :mod:`authserver.registry.clients` does both, as for the CLI and the
admin API; mapping metadata is :mod:`authserver.registry.registration`'s job.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7591.errors import InvalidClientMetadataError, InvalidRedirectURIError
from flask import Blueprint, g, jsonify, request

from authserver.edge.bearer import bearer_token
from authserver.edge.json_input import MalformedJSON, parse_json_object
from authserver.edge.realm_binding import bind_realm
from authserver.errors import InvalidInput
from authserver.models import Client
from authserver.registry import registration

blueprint = Blueprint("registration", __name__, url_prefix="/realms/<realm>")
blueprint.url_value_preprocessor(bind_realm)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@blueprint.post("/register")
def register():
    initial_token = registration.verify_initial_token(g.realm, bearer_token())
    if initial_token is None:
        raise InvalidTokenError(description="A valid initial access token is required.")
    with metadata_errors():
        issued = registration.register_client(g.realm, _json_body(), initial_token)
    return _information(issued.client, issued.client_secret, issued.registration_access_token), 201, NO_STORE


@blueprint.get("/register/<client_id>")
def read(client_id: str):
    client = _configured_client(client_id)
    return _information(client, registration_token=bearer_token()), 200, NO_STORE


@blueprint.put("/register/<client_id>")
def update(client_id: str):
    client = _configured_client(client_id)
    with metadata_errors():
        client = registration.update_registration(g.realm, client, _json_body())
    return _information(client, registration_token=bearer_token()), 200, NO_STORE


@blueprint.delete("/register/<client_id>")
def delete(client_id: str):
    registration.delete_registration(g.realm, _configured_client(client_id))
    return "", 204


@contextmanager
def metadata_errors() -> Iterator[None]:
    """RFC 7591 §3.2.2: a refused value is ``invalid_client_metadata`` or ``invalid_redirect_uri``."""
    try:
        yield
    except InvalidInput as exc:
        error = (InvalidRedirectURIError if registration.rfc_field(exc) == "redirect_uris"
                 else InvalidClientMetadataError)
        raise error(description=_description(registration.rfc_message(exc))) from None


def _configured_client(client_id: str) -> Client:
    """RFC 7592 §2: a wrong token, or a client that no longer exists, is 401."""
    client = registration.authenticate(g.realm, client_id, bearer_token())
    if client is None:
        raise InvalidTokenError(description="A valid registration access token is required.")
    return client


def _json_body() -> dict:
    if request.mimetype != "application/json":
        raise InvalidRequestError(description="The body must be a JSON object of client metadata.")
    try:
        return parse_json_object(request.get_data(cache=True), what="the client metadata")
    except MalformedJSON as exc:
        raise InvalidRequestError(description=exc.message) from None


def _information(client: Client, client_secret: str | None = None,
                 registration_token: str | None = None):
    """RFC 7591 §3.2.1 client information, with the RFC 7592 §3 configuration endpoint.

    The secret appears only when just issued; the registration access token is the one
    issued now or presented by the client (only its hash is stored)."""
    body = registration.client_metadata(client)
    if client_secret:
        body["client_secret"] = client_secret
    body["registration_access_token"] = registration_token
    body["registration_client_uri"] = f"{g.realm_issuer}/register/{client.client_id}"
    return jsonify(body)


def _description(message: str) -> str:
    """Only the characters RFC 6749 §5.2 allows in ``error_description``."""
    return "".join(c if 0x20 <= ord(c) <= 0x7E and c not in '"\\' else "'" for c in message)
