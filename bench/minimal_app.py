"""The ceiling of bench/token_endpoint.py: a minimal Flask app doing the crypto of one token
exchange (verify the upstream's RS256 ID token, sign an ES256 JWT) and one indexed read of
the identity link, with nothing else (no parsing beyond Flask's, no client authentication,
no logs, no metrics). Served by granian like ``authserver serve``."""

from __future__ import annotations

import json
import os
import time
import uuid

from flask import Flask, request
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from sqlalchemy import create_engine, text


def create_app() -> Flask:
    app = Flask("minimal")
    engine = create_engine(os.environ["MINIMAL_DATABASE_URL"])
    upstream = RSAKey.import_key(json.loads(os.environ["MINIMAL_UPSTREAM_JWK"]))
    signing = ECKey.generate_key("P-256")
    # The link's unique key (realm, connection, subject), as the product reads it: by
    # ``subject`` alone the read would scan a table that first logins keep growing.
    with engine.connect() as conn:
        realm_id, idp_id = conn.execute(text(
            "SELECT r.id, i.id FROM realms r JOIN identity_providers i ON i.realm_id = r.id "
            "WHERE r.name = 'default' AND i.name = 'upstream'")).one()
    link = text("SELECT user_pk FROM identity_links WHERE realm_id = :realm AND idp_id = :idp AND subject = :subject")

    @app.get("/ready")
    def ready():
        return "ok"

    @app.post("/realms/default/token")
    def token():
        claims = jwt.decode(request.form["subject_token"], upstream, algorithms=["RS256"]).claims
        with engine.connect() as conn:
            row = conn.execute(link, {"realm": realm_id, "idp": idp_id, "subject": claims["sub"]}).first()
        now = int(time.time())
        out = jwt.encode({"alg": "ES256", "typ": "at+jwt"}, {
            "iss": "minimal", "sub": claims["sub"], "aud": "chat-api", "iat": now, "exp": now + 900,
            "jti": uuid.uuid4().hex, "uid": row[0]}, signing, algorithms=["ES256"])
        return {"access_token": out, "token_type": "Bearer", "expires_in": 900}

    return app
