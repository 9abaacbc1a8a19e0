"""Builders for the objects most tests need, through the same service functions the CLI
and the admin API call."""

from __future__ import annotations

import base64
import time
import uuid

from joserfc import jwt
from joserfc.jwk import ECKey

from authserver.plugin_api import TOKEN_TYPE_JWT
from authserver.registry import backends, clients, idps
from authserver.registry.clients import GRANT_TOKEN_EXCHANGE
from authserver.registry.realms import get_realm

ISSUER = "http://auth.test/realms/default"
TOKEN_EXCHANGE = GRANT_TOKEN_EXCHANGE


def make_backend(app, audience="chat-api", scopes="chat:read chat:write",
                 default_scopes="chat:read", **extra):
    with app.app_context():
        data = {"audience": audience, "scopes": scopes, "default_scopes": default_scopes, **extra}
        return backends.create_backend(get_realm("default"), data, "test").to_dict()


def make_client(app, **data):
    data.setdefault("name", "test client")
    with app.app_context():
        return clients.create_client(get_realm("default"), data, "test").to_dict()


def make_idp(app, **data):
    with app.app_context():
        idp, secret = idps.create_idp(get_realm("default"), data, "test")
        return {**idp.to_dict(), "shared_secret": secret}


def basic_auth(client_id: str, secret: str) -> dict:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


class AppBackend:
    """The app's own backend: a confidential client with a key pair whose public half is
    registered, and a backend_assertion connection trusting it."""

    def __init__(self, app, name="app-backend", idp_name="app", audiences=("chat-api",),
                 scopes="chat:read chat:write", **idp_options):
        self.key = ECKey.generate_key("P-256")
        jwks = {"keys": [{**self.key.as_dict(private=False), "kid": "k1", "alg": "ES256"}]}
        self.client = make_client(app, client_id=name, name=name, auth_method="client_secret_post",
                                  grant_types=[TOKEN_EXCHANGE], audiences=list(audiences),
                                  scopes=scopes, jwks=jwks)
        self.idp = make_idp(app, name=idp_name, type="backend_assertion", client_id=name, **idp_options)
        with app.app_context():
            clients.update_client(get_realm("default"), name, {"idps": [idp_name]}, "test")
        self.client_id, self.secret = name, self.client["client_secret"]

    def assertion(self, sub="user-1", issuer=ISSUER, lifetime=120, now=None, **claims) -> str:
        now = int(now if now is not None else time.time())
        payload = {"iss": self.client_id, "sub": sub, "aud": issuer, "iat": now, "exp": now + lifetime,
                   "jti": uuid.uuid4().hex, **claims}
        return jwt.encode({"alg": "ES256", "kid": "k1"}, payload, self.key, algorithms=["ES256"])

    def exchange_form(self, assertion: str, **extra) -> dict:
        return {"grant_type": TOKEN_EXCHANGE, "client_id": self.client_id, "client_secret": self.secret,
                "subject_token": assertion, "subject_token_type": TOKEN_TYPE_JWT, **extra}
