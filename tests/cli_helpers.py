"""Driving the ``authserver`` CLI from tests: ``--json`` output parsed, errors kept."""

from __future__ import annotations

import base64
import json

from authserver.cli import main

TOKEN_URL = "/realms/default/token"


def cli(runner, *args: str):
    """Run a command that must succeed and print JSON; return the parsed JSON."""
    result = runner.invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def cli_error(runner, *args: str) -> str:
    """Run a command that must fail with one line on stderr and exit 2; return that line."""
    result = runner.invoke(main, list(args))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and not result.stdout.strip(), result.output
    assert "Traceback" not in result.output
    return lines[0]


def basic(client_id: str, secret: str) -> dict:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def admin_token(runner, client, realm: str = "default") -> str:
    """`authserver admin bootstrap`, then the client credentials grant it prints."""
    boot = cli(runner, "admin", "bootstrap", "--realm", realm)
    response = client.post(f"/realms/{realm}/token", headers=basic(boot["client_id"], boot["client_secret"]),
                           data={"grant_type": "client_credentials", "scope": "admin"})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["access_token"]
