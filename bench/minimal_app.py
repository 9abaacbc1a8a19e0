"""The ceiling app: the same crypto as one exchange (verify an ES256 assertion, sign an
ES256 JWT) and one indexed database read, in a minimal Flask app."""

from __future__ import annotations

import json
import os
import time
import uuid

from flask import Flask, request
from joserfc import jwt
from joserfc.jwk import ECKey
from sqlalchemy import create_engine, text


def create_app() -> Flask:
    app = Flask("minimal")
    engine = create_engine(os.environ["MINIMAL_DATABASE_URL"])
    public = ECKey.import_key(json.loads(os.environ["MINIMAL_PUBLIC_JWK"]))
    signing = ECKey.generate_key("P-256")

    @app.post("/token")
    def token():
        claims = jwt.decode(request.form["subject_token"], public, algorithms=["ES256"]).claims
        with engine.connect() as conn:
            row = conn.execute(text("SELECT id FROM realms WHERE name = :n"), {"n": "default"}).first()
        now = int(time.time())
        out = jwt.encode({"alg": "ES256", "typ": "at+jwt"}, {
            "iss": "x", "sub": claims["sub"], "aud": "chat-api", "iat": now, "exp": now + 900,
            "jti": uuid.uuid4().hex, "rid": row[0]}, signing, algorithms=["ES256"])
        return {"access_token": out, "token_type": "Bearer"}

    return app
