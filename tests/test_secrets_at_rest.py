"""No client secret, registration access token or initial access token is stored in
plaintext (or as an unkeyed hash), nor written to the audit log or the logs."""

from __future__ import annotations

import hashlib
import logging

from sqlalchemy import inspect, text

from authserver.extensions import db
from tests.cli_helpers import admin_token, bearer, cli


def every_stored_value(app) -> str:
    """Every cell of every table, read with raw SQL, as one searchable text."""
    cells = []
    with app.app_context(), db.engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                for value in row:
                    if isinstance(value, (bytes, memoryview)):
                        value = bytes(value)
                        cells += [value.hex(), value.decode("latin-1")]
                    else:
                        cells.append(str(value))
    return "\n".join(cells)


def make_secrets(runner, client) -> list[str]:
    cli(runner, "backends", "create", "--realm", "default", "--audience", "chat-api", "--scopes", "chat:read")
    basic_client = cli(runner, "clients", "create", "--realm", "default", "--name", "a",
                       "--audience", "chat-api", "--scopes", "chat:read")
    post_client = cli(runner, "clients", "create", "--realm", "default", "--name", "b",
                      "--auth-method", "client_secret_post")
    rotated = cli(runner, "clients", "rotate-secret", "--realm", "default", basic_client["client_id"],
                  "--grace", "600")
    initial = cli(runner, "clients", "initial-token", "--realm", "default")["initial_access_token"]
    metadata = {"client_name": "dyn", "audiences": ["chat-api"], "scope": "chat:read"}
    registered = client.post("/realms/default/register", headers=bearer(initial), json=metadata).get_json()
    token = admin_token(runner, client)
    admin = bearer(token)
    via_api = client.post("/admin/realms/default/clients", headers=admin, json={"name": "c"}).get_json()
    api_initial = client.post("/admin/realms/default/initial-tokens", headers=admin).get_json()
    boot = cli(runner, "admin", "bootstrap", "--realm", "default")
    return [basic_client["client_secret"], post_client["client_secret"], rotated["client_secret"], initial,
            registered["client_secret"], registered["registration_access_token"], via_api["client_secret"],
            api_initial["initial_access_token"], boot["client_secret"]]


def test_no_secret_is_stored_or_logged(app, runner, client, caplog):
    caplog.set_level(logging.DEBUG)
    secrets = make_secrets(runner, client)
    assert len(set(secrets)) == len(secrets) and all(len(s) >= 43 for s in secrets)  # 256 bits
    stored = every_stored_value(app)
    assert "client.create" in stored and "initial_token.create" in stored  # the audit log is in it
    for secret in secrets:
        assert secret not in stored
        assert hashlib.sha256(secret.encode()).hexdigest() not in stored  # keyed hashes only
        assert secret not in caplog.text


def test_audit_log_has_no_secret_fields(app, runner, client):
    secrets = make_secrets(runner, client)
    events = cli(runner, "audit", "--realm", "default", "--limit", "1000")
    assert events
    for event in events:
        dump = repr(event)
        assert not any(secret in dump for secret in secrets)
        for state in (event["before"] or {}, event["after"] or {}):
            assert not {"client_secret", "secret_hash", "registration_access_token",
                        "initial_access_token", "registration_token_hash"} & set(state)
