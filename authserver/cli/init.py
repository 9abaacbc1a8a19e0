"""``authserver init``: instance config with fresh secrets, schema, realm ``default``.

Idempotent: an existing config is kept, migrations apply only what is missing, an existing
realm is left alone. Against a database another host already serves, init needs that host's
``SECRET_KEY``: with any other key it refuses, changes nothing in the database and removes
the config it has just written (:mod:`authserver.sealing`).
"""

from __future__ import annotations

import os
import secrets

import click
from flask import Flask

from authserver.cli.failures import CLIError
from authserver.cli.options import ACTOR
from authserver.cli.output import emit_json, json_option

CONFIG_TEMPLATE = '''\
# authserver instance configuration, written by `authserver init`.
# Keep this file secret: SECRET_KEY encrypts the signing keys stored in the database.
# Every host serving the same database needs this same SECRET_KEY.
SECRET_KEY = {secret!r}
'''


@click.command("init")
@click.option("--realm", "realm_name", default="default", show_default=True,
              help="Name of the first realm.")
@json_option
def init_command(realm_name: str, as_json: bool) -> None:
    """Write the instance config, apply migrations, create the first realm."""
    from authserver import create_app
    from authserver.sealing import SealMismatch, ensure_sealed

    instance = _instance_path()
    existed = os.path.exists(os.path.join(instance, "config.py"))
    config_path = write_instance_config(instance)
    try:
        app = create_app()
        with app.app_context():
            _upgrade_schema(app)
            ensure_sealed()
            created = _ensure_first_realm(realm_name)
    except SealMismatch as exc:
        if not existed:
            os.remove(config_path)
        raise CLIError(_refusal(exc, config_path, written_now=not existed)) from None
    if as_json:
        emit_json({"instance_config": config_path, "realm": realm_name, "realm_created": created})
        return
    click.echo(f"realm {realm_name}: {'created' if created else 'already exists'}")
    click.echo(f"instance config: {config_path}")
    click.echo(f"first admin token: run `authserver admin bootstrap --realm {realm_name}` "
               "and the curl command it prints")


def _refusal(exc, config_path: str, written_now: bool) -> str:
    sealed = f"sealed by another SECRET_KEY (fingerprint {exc.sealed_by})" if exc.sealed_by else \
        "holding signing keys that this SECRET_KEY does not open"
    done = "the config init had just written is removed" if written_now else "nothing was changed"
    return (f"this database is already {sealed}: copy SECRET_KEY from the instance config.py of a host "
            f"that serves it into {config_path}, then run `authserver init` again ({done})")


def _instance_path() -> str:
    path = os.environ.get("AUTHSERVER_INSTANCE_PATH")
    if path:
        return os.path.abspath(path)
    return Flask("authserver").instance_path


def write_instance_config(instance_path: str) -> str:
    """Create ``config.py`` (mode 0600) with a fresh SECRET_KEY unless it exists."""
    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, "config.py")
    if os.path.exists(path):
        return path
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(CONFIG_TEMPLATE.format(secret=secrets.token_urlsafe(48)))
    return path


def _upgrade_schema(app: Flask) -> None:
    """Alembic's upgrade, without its step-by-step INFO lines (init prints its own summary)."""
    from authserver import schema_migrations

    schema_migrations.upgrade(app, quiet=True)


def _ensure_first_realm(name: str) -> bool:
    """Whether the realm was created now."""
    from authserver.registry.realms import ensure_realm

    _, created = ensure_realm(name, actor=ACTOR)
    return created
