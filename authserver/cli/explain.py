"""``authserver explain``: whether a token exchange (RFC 8693) would issue a token, and why —
decided, not performed: no user or link created, no ``jti`` spent, no usage, no event."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from authserver.cli.dispatch import admin_call, realm_path
from authserver.cli.options import given, realm_option
from authserver.cli.output import compact_json, emit_json, json_option
from authserver.errors import InvalidInput
from authserver.grants.explain import explain_for
from authserver.plugin_api import TOKEN_TYPE_ACCESS_TOKEN, TOKEN_TYPE_ID_TOKEN, TOKEN_TYPE_JWT, TOKEN_TYPE_SESSION
from authserver.registry.realms import get_realm

#: ``--subject-token-type`` and ``--actor-token-type`` may name a type by its last word.
SHORT_TYPES = {"id_token": TOKEN_TYPE_ID_TOKEN, "jwt": TOKEN_TYPE_JWT, "access_token": TOKEN_TYPE_ACCESS_TOKEN,
               "session_token": TOKEN_TYPE_SESSION}


def _token_type(ctx, param, value: str | None) -> str | None:
    return SHORT_TYPES.get(value, value) if value is not None else None


def _token(ctx, param, value: str | None) -> str | None:
    """``-`` reads the token from stdin, keeping it out of the shell's history and ``ps``."""
    return sys.stdin.read().strip() if value == "-" else value


@click.command("explain")
@with_appcontext
@realm_option
@click.option("--client", "client_id", required=True, metavar="CLIENT_ID", help="The client whose exchange it is.")
@click.option("--subject-token", required=True, metavar="TOKEN", callback=_token,
              help="The subject token; '-' reads it from stdin.")
@click.option("--subject-token-type", required=True, metavar="TYPE", callback=_token_type,
              help="An RFC 8693 token type URN, or: id_token, jwt, access_token, session_token.")
@click.option("--audience", help="The chat backend (absent: the client's only one).")
@click.option("--scope", help='Requested scopes, e.g. "chat:read chat:write".')
@click.option("--idp", help="The connection that must verify the subject token.")
@click.option("--actor-token", metavar="TOKEN", help="Delegation: the actor token.")
@click.option("--actor-token-type", metavar="TYPE", callback=_token_type, help="Its type (as --subject-token-type).")
@click.option("--session-token", metavar="TOKEN", help="The anonymous device session this login would upgrade.")
@click.option("--requested-token-type", metavar="TYPE", callback=_token_type, help="access_token (default) or jwt.")
@click.option("--workspace", help="A workspace the client states (non-verified).")
@json_option
def explain_command(realm: str, as_json: bool, **options) -> None:
    """Explain the token exchange CLIENT_ID would make in REALM: each step, the connection
    that matched, the identity decision, the scopes and the claims (unsigned). Changes nothing;
    exits 0 whatever the verdict."""
    body = given(**options)
    answer = admin_call("POST", realm_path(realm, "explain"), lambda: _local(realm, body), body=body)
    if as_json:
        emit_json(answer)
    else:
        _print(answer)


def _local(realm: str, body: dict) -> dict:
    if not current_app.config.get("ISSUER_BASE_URL"):
        raise InvalidInput("explain needs ISSUER_BASE_URL (the issuer tokens name) in the configuration, "
                           "or --server URL")
    return explain_for(get_realm(realm), body)


def _print(answer: dict) -> None:
    if answer["verdict"] == "issue":
        click.echo("verdict: issue")
    else:
        click.echo(f"verdict: refuse at {answer['failed_step']}: {answer['error']}")
    width = max(len(step["name"]) for step in answer["steps"])
    for step in answer["steps"]:
        click.echo(f"  {'ok  ' if step['ok'] else 'FAIL'}  {step['name'].ljust(width)}  {step['detail']}")
    for row in answer["connections"]:
        click.echo(f"connection {row['name']}: {row['result']} ({row['detail']})")
    if answer["identity"]:
        click.echo(f"identity: {answer['identity']['outcome']} (rule {answer['identity']['rule']})")
    if answer["scopes"] and answer["scopes"]["granted"]:
        click.echo(f"scopes granted: {' '.join(answer['scopes']['granted'])}")
    if answer["token"]:
        click.echo(f"claims (unsigned): {compact_json(answer['token']['claims'])}")
