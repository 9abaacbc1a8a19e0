"""The ceilings of bench/token_endpoint.py: the crypto of one token exchange (verify the
upstream's RS256 ID token, sign an ES256 JWT) and one indexed read of the identity link,
with nothing else (no parsing beyond the form, no client authentication, no logs, no
metrics), served by granian like ``authserver serve``. Two front ends over the same work:

* :func:`create_app`, a minimal Flask app: how far Python and Flask alone get;
* :func:`create_wsgi_app`, a plain WSGI callable: how far Python alone gets, without a web
  framework; the gap between the two is what Flask's request handling costs per request.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from urllib.parse import parse_qsl

from flask import Flask, request
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import create_engine, text


class _Exchange:
    """The work both front ends do per request, set up once from the environment."""

    def __init__(self):
        self.engine = create_engine(os.environ["MINIMAL_DATABASE_URL"])
        self.upstream = RSAKey.import_key(json.loads(os.environ["MINIMAL_UPSTREAM_JWK"]))
        self.signing = ECKey.generate_key("P-256")
        # The link's unique key (realm, connection, subject), as the product reads it: by
        # ``subject`` alone the read would scan a table that first logins keep growing.
        with self.engine.connect() as conn:
            self.realm_id, self.idp_id = conn.execute(text(
                "SELECT r.id, i.id FROM realms r JOIN identity_providers i ON i.realm_id = r.id "
                "WHERE r.name = 'default' AND i.name = 'upstream'")).one()
        self.link = text("SELECT user_pk FROM identity_links "
                         "WHERE realm_id = :realm AND idp_id = :idp AND subject = :subject")

    def __call__(self, subject_token: str) -> dict:
        claims = jwt.decode(subject_token, self.upstream, algorithms=["RS256"]).claims
        with self.engine.connect() as conn:
            row = conn.execute(self.link, {"realm": self.realm_id, "idp": self.idp_id,
                                           "subject": claims["sub"]}).first()
        now = int(time.time())
        out = jwt.encode({"alg": "ES256", "typ": "at+jwt"}, {
            "iss": "minimal", "sub": claims["sub"], "aud": "chat-api", "iat": now, "exp": now + 900,
            "jti": uuid.uuid4().hex, "uid": row[0]}, self.signing, algorithms=["ES256"])
        return {"access_token": out, "token_type": "Bearer", "expires_in": 900}


def create_app() -> Flask:
    app = Flask("minimal")
    exchange = _Exchange()

    @app.get("/ready")
    def ready():
        return "ok"

    @app.post("/realms/default/token")
    def token():
        return exchange(request.form["subject_token"])

    return app


def create_wsgi_app():
    exchange = _Exchange()

    def app(environ, start_response):
        if environ["PATH_INFO"] == "/ready":
            return _respond(start_response, "200 OK", "text/plain", b"ok")
        if environ["REQUEST_METHOD"] != "POST" or environ["PATH_INFO"] != "/realms/default/token":
            return _respond(start_response, "404 Not Found", "text/plain", b"not found")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        form = dict(parse_qsl(environ["wsgi.input"].read(length).decode()))
        body = json.dumps(exchange(form["subject_token"])).encode()
        return _respond(start_response, "200 OK", "application/json", body)

    return app


def _respond(start_response, status: str, content_type: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
