"""What the token endpoint benchmark serves and sends: an upstream OpenID Provider on
loopback (discovery and an RS256 JWKS; the ID tokens are minted here with its key), a
database with realm ``default``, the chat backend, the clients and the IdP connection, and
the request bodies of every case.

Everything is created through the same registry functions the CLI and the admin API call.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode

ISSUER_BASE = "http://auth.bench"
REALM_ISSUER = f"{ISSUER_BASE}/realms/default"
SECRET_KEY = "bench-secret-key-" + "x" * 40
AUDIENCE = "chat-api"
NODE_RESOURCE = "https://chat-api.bench"
SCOPE = "chat:read"
UPSTREAM_CLIENT = "chat-web"  # our client id at the upstream provider, and the exchanging client
SERVICE_CLIENT = "service"  # client credentials
RESOURCE_SERVER = "chat-backend"  # introspects the tokens of chat-api
RETURNING_USERS = 500
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
ID_TOKEN_LIFETIME = 4 * 3600


class Upstream:
    """An upstream OpenID Provider reduced to what a token exchange reads: discovery and
    JWKS (cacheable for a day), served from a thread; ID tokens signed RS256 with its key."""

    def __init__(self):
        from joserfc.jwk import RSAKey

        self.key = RSAKey.generate_key(2048)
        self.kid = self.key.thumbprint()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _handler(self):
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                documents = {"/.well-known/openid-configuration": {
                    "issuer": upstream.issuer, "jwks_uri": f"{upstream.issuer}/jwks",
                    "id_token_signing_alg_values_supported": ["RS256"]},
                    "/jwks": {"keys": [{**upstream.key.as_dict(private=False), "kid": upstream.kid,
                                        "alg": "RS256", "use": "sig"}]}}
                body = json.dumps(documents.get(self.path, {})).encode()
                self.send_response(200 if self.path in documents else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Cache-Control", "max-age=86400")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler

    def close(self) -> None:
        self._server.shutdown()

    def signer(self) -> tuple[str, str, str]:
        """What :func:`mint_id_tokens` needs in another process: PEM, kid, issuer."""
        return self.key.as_pem(private=True).decode(), self.kid, self.issuer


def _id_token(key, kid: str, issuer: str, subject: str, now: int) -> str:
    from joserfc import jwt

    local = subject.replace("-", ".")
    claims = {"iss": issuer, "sub": subject, "aud": UPSTREAM_CLIENT, "iat": now, "exp": now + ID_TOKEN_LIFETIME,
              "email": f"{local}@example.test", "email_verified": True, "name": f"User {subject}",
              "given_name": "User", "family_name": subject}
    return jwt.encode({"alg": "RS256", "kid": kid}, claims, key, algorithms=["RS256"])


def _mint_chunk(args) -> list[str]:
    from joserfc.jwk import RSAKey

    (pem, kid, issuer), subjects, now = args
    key = RSAKey.import_key(pem)
    return [_id_token(key, kid, issuer, subject, now) for subject in subjects]


def mint_id_tokens(signer: tuple[str, str, str], subjects: list[str], processes: int = 2) -> list[str]:
    """RS256 ID tokens for ``subjects``, signed in parallel (RSA signing is the slow part)."""
    now = int(time.time())
    size = max(1, len(subjects) // (processes * 4))
    chunks = [(signer, subjects[i:i + size], now) for i in range(0, len(subjects), size)]
    with mp.get_context("fork").Pool(processes) as pool:
        return [token for chunk in pool.map(_mint_chunk, chunks) for token in chunk]


# --- the database ----------------------------------------------------------------------


@dataclass
class Instance:
    """One prepared database and what the load needs to talk to it."""

    name: str
    url: str
    secrets: dict[str, str]
    introspected: list[str] = field(default_factory=list)  # chat JWTs of returning users
    returning: list[str] = field(default_factory=list)  # exchange bodies of returning users

    def env(self, instance_path: str) -> dict[str, str]:
        return {"AUTHSERVER_SQLALCHEMY_DATABASE_URI": self.url, "AUTHSERVER_SECRET_KEY": SECRET_KEY,
                "AUTHSERVER_ISSUER_BASE_URL": ISSUER_BASE, "AUTHSERVER_INSTANCE_PATH": instance_path}


def reset_postgres(url: str, schema: str) -> str:
    """A fresh schema; the URL that selects it."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, connect_args={"connect_timeout": 3})
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def prepare(name: str, url: str, upstream: Upstream, returning_tokens: list[str]) -> Instance:
    """Schema, realm, chat backend, the three clients and the upstream connection; then the
    returning users' first logins (in-process), keeping their chat JWTs for introspection."""
    from authserver import create_app, schema_migrations
    from authserver.extensions import db
    from authserver.registry import backends, clients, idps
    from authserver.registry.realms import ensure_realm

    app = create_app({"SECRET_KEY": SECRET_KEY, "SQLALCHEMY_DATABASE_URI": url, "ISSUER_BASE_URL": ISSUER_BASE,
                      "TESTING": True, "TOKEN_RATE_LIMIT": 0})
    with app.app_context():
        schema_migrations.upgrade(app)
        realm, _ = ensure_realm("default")
        backends.create_backend(realm, {"audience": AUDIENCE, "scopes": SCOPE, "default_scopes": SCOPE,
                                        "token_ttl": 3600}, "bench")
        idps.create_idp(realm, {"name": "upstream", "type": "oidc", "config": {
            "issuer": upstream.issuer, "client_ids": [UPSTREAM_CLIENT], "algorithms": ["RS256"]}}, "bench")
        exchanging = clients.create_client(realm, {
            "client_id": UPSTREAM_CLIENT, "name": "chat web backend", "auth_method": "client_secret_post",
            "grant_types": [TOKEN_EXCHANGE], "audiences": [AUDIENCE], "scopes": SCOPE, "idps": ["upstream"]},
            "bench")
        service = clients.create_client(realm, {
            "client_id": SERVICE_CLIENT, "name": "service", "auth_method": "client_secret_post",
            "grant_types": ["client_credentials"], "audiences": [AUDIENCE], "scopes": SCOPE}, "bench")
        resource = clients.create_client(realm, {
            "client_id": RESOURCE_SERVER, "name": "chat backend", "auth_method": "client_secret_post",
            "serves": [AUDIENCE]}, "bench")
    instance = Instance(name, url, {UPSTREAM_CLIENT: exchanging.client_secret,
                                    SERVICE_CLIENT: service.client_secret,
                                    RESOURCE_SERVER: resource.client_secret})
    web = app.test_client()
    for body in exchange_bodies(instance, returning_tokens):
        response = web.post("/realms/default/token", data=body,
                            content_type="application/x-www-form-urlencoded")
        if response.status_code != 200:
            raise RuntimeError(f"{name}: the first login of a returning user failed: {response.get_json()}")
        instance.introspected.append(response.get_json()["access_token"])
    with app.app_context():
        db.engine.dispose()
    return instance


# --- request bodies --------------------------------------------------------------------


def exchange_bodies(instance: Instance, id_tokens: list[str]) -> list[str]:
    return [urlencode({"grant_type": TOKEN_EXCHANGE, "client_id": UPSTREAM_CLIENT,
                       "client_secret": instance.secrets[UPSTREAM_CLIENT], "subject_token": token,
                       "subject_token_type": ID_TOKEN_TYPE, "audience": AUDIENCE, "scope": SCOPE})
            for token in id_tokens]


def client_credentials_body(instance: Instance) -> list[str]:
    return [urlencode({"grant_type": "client_credentials", "client_id": SERVICE_CLIENT,
                       "client_secret": instance.secrets[SERVICE_CLIENT], "audience": AUDIENCE,
                       "scope": SCOPE})]


def introspection_bodies(instance: Instance) -> list[str]:
    return [urlencode({"token": token, "client_id": RESOURCE_SERVER,
                       "client_secret": instance.secrets[RESOURCE_SERVER]}) for token in instance.introspected]


def node_body(client_id: str, secret: str) -> list[str]:
    return [urlencode({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
                       "resource": NODE_RESOURCE, "scope": SCOPE})]


def returning_subjects() -> list[str]:
    return [f"returning-{i}" for i in range(RETURNING_USERS)]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return "unknown CPU"


def machine() -> str:
    return f"{os.cpu_count()} cores, {os.uname().machine}, {cpu_model()}"
