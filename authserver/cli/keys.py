"""``authserver keys``: a realm's signing keys: list, rotate, cancel a rotation, retire a
compromised key now."""

from __future__ import annotations

import re

import click
from flask.cli import AppGroup

from authserver.cli.dispatch import admin_call, admin_list, realm_path
from authserver.cli.options import ACTOR, given, page_options, realm_option
from authserver.cli.output import emit, emit_page, json_option
from authserver.models import KeyState, SigningKey
from authserver.registry.realms import get_realm
from authserver.state import app_state

keys = AppGroup("keys", help="Manage a realm's signing keys.")
# An RFC 7638 thumbprint is 43 base64url characters; one in 64 starts with "-".
THUMBPRINT = re.compile(r"[A-Za-z0-9_-]{43}")


class KidCommand(click.Command):
    """A command whose argument is a key id: a kid that starts with ``-`` is read as the
    argument, not as an option, so a kid pasted from ``keys list`` works without ``--``."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if "--" in args:
            return super().parse_args(ctx, args)
        kids = [arg for arg in args if arg.startswith("-") and THUMBPRINT.fullmatch(arg)]
        rest = [arg for arg in args if arg not in kids]
        return super().parse_args(ctx, [*rest, "--", *kids] if kids else rest)


COLUMNS = ("kid", "alg", "state", "created_at", "activates_at", "retired_at", "remove_after")


@keys.command("list")
@realm_option
@page_options()
@click.option("--state", type=click.Choice([s.value for s in KeyState]), help="Only keys in this state.")
@json_option
def list_(realm: str, limit: int, cursor: str | None, state: str | None, as_json: bool) -> None:
    """List the realm's keys (public facts only), the newest first."""
    def local():
        svc, realm_row = app_state().keys, get_realm(realm)
        svc.maintain(realm_row)
        return svc.page_keys(realm_row, limit, cursor, state).map(SigningKey.to_dict)

    page = admin_list(realm_path(realm, "keys"), local, {"limit": limit, "cursor": cursor, "state": state})
    emit_page(page, as_json, COLUMNS)


@keys.command("rotate")
@realm_option
@click.option("--alg", type=click.Choice(["ES256", "RS256", "EdDSA"]), default=None,
              help="Algorithm of the new key (default: DEFAULT_SIGNING_ALG).")
@json_option
def rotate(realm: str, alg: str | None, as_json: bool) -> None:
    """Add a `next` key: published now, signing after the pre-publication period."""
    key = admin_call("POST", realm_path(realm, "keys", "rotate"),
                     lambda: app_state().keys.rotate(get_realm(realm), alg, ACTOR).to_dict(), body=given(alg=alg))
    emit(key, as_json, COLUMNS)


@keys.command("cancel-rotation")
@realm_option
@json_option
def cancel_rotation(realm: str, as_json: bool) -> None:
    """Drop the pending `next` key (it never signed): it leaves the JWKS now."""
    key = admin_call("POST", realm_path(realm, "keys", "cancel-rotation"),
                     lambda: app_state().keys.cancel_rotation(get_realm(realm), ACTOR))
    emit(key, as_json, COLUMNS)


@keys.command("retire-now", cls=KidCommand)
@realm_option
@click.argument("kid")
@json_option
def retire_now(realm: str, kid: str, as_json: bool) -> None:
    """A compromised key KID leaves the JWKS now and the tokens it signed stop verifying; if it
    was the active key, the `next` key (else a new one) signs from now on."""
    done = admin_call("POST", realm_path(realm, "keys", kid, "retire-now"),
                      lambda: app_state().keys.retire_now(get_realm(realm), kid, ACTOR))
    if as_json:
        emit(done, True)
    else:
        rows = [{"change": change, **done[change]} for change in ("retired", "activated") if done.get(change)]
        emit(rows, False, ("change", *COLUMNS))
