"""The first admin client of a realm: the way into the admin API.

``admin-cli`` is a confidential client with the client credentials grant (RFC 6749 §4.4)
and scope ``admin``; bootstrapping again replaces it, with a new secret.
"""

from __future__ import annotations

from authserver.models import Realm
from authserver.registry import clients

ADMIN_CLIENT_ID = "admin-cli"


def bootstrap_admin_client(realm: Realm, actor: str) -> clients.IssuedClient:
    if clients.find_client(realm, ADMIN_CLIENT_ID) is not None:
        clients.delete_client(realm, ADMIN_CLIENT_ID, actor)
    return clients.create_client(realm, {
        "client_id": ADMIN_CLIENT_ID, "name": "Admin CLI", "auth_method": "client_secret_basic",
        "grant_types": [clients.GRANT_CLIENT_CREDENTIALS], "scopes": [clients.ADMIN_SCOPE],
    }, actor)
