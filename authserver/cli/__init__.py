"""The ``authserver`` command: one click group, one sub-group per noun.

Every command is a thin wrapper over the same service functions the admin API calls. The app
is built only when a command needs it (``with_appcontext``, :class:`flask.cli.AppGroup`), so
``--help`` works anywhere, even before ``authserver init``. Every failure prints one line on
stderr and exits with status 2 (:mod:`authserver.cli.failures`).

``authserver --server URL`` runs the admin commands (:data:`REMOTE_COMMANDS`) through that
server's admin API instead (:mod:`authserver.cli.remote`, :mod:`authserver.cli.dispatch`):
then no app is built here, so no instance folder, database or ``SECRET_KEY`` is needed.
"""

from __future__ import annotations

import click
from click.core import ParameterSource
from flask import Flask
from flask.cli import ScriptInfo

from authserver import __version__
from authserver.cli.dispatch import REMOTE
from authserver.cli.failures import CLIError, one_line

__all__ = ["CLIError", "main"]

# A group run without a command prints its help (click >= 8.2 raises this for it): not a failure.
_HELP_INSTEAD = tuple(filter(None, [getattr(click.exceptions, "NoArgsIsHelpError", None)]))
#: The admin commands, which `--server` runs through a remote admin API; the others run here.
REMOTE_COMMANDS = frozenset({"realms", "keys", "backends", "clients", "idps", "users", "usage", "audit", "webhooks",
                             "explain"})
MIGRATIONS_COMMAND = "db"
REMOTE_OPTIONS = ("server", "client_id", "client_secret", "realm_of_credentials")


class AuthserverGroup(click.Group):
    """Gives every command a :class:`~flask.cli.ScriptInfo` that builds the app on first use
    (what ``with_appcontext`` asks for), and turns every expected failure into one line."""

    def make_context(self, info_name, args, parent=None, **extra) -> click.Context:
        if "obj" not in extra and "obj" not in self.context_settings:
            extra["obj"] = ScriptInfo(create_app=_create_app)
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except _HELP_INSTEAD:
            raise
        except click.UsageError as exc:
            raise CLIError(one_line(exc.format_message())) from None

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """``authserver db`` (Flask-Migrate's group, for operators) is built on first use."""
        if name == MIGRATIONS_COMMAND and name not in self.commands:
            self.add_command(_migrations_group(), name)
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (CLIError, *_HELP_INSTEAD):
            raise
        except Exception as exc:
            failure = CLIError.from_exception(exc)
            if failure is None:
                raise
            raise failure from None


def _create_app() -> Flask:
    from authserver import create_app

    return create_app()


@click.group(cls=AuthserverGroup)
@click.version_option(__version__, prog_name="authserver")
@click.option("--server", metavar="URL", envvar="AUTHSERVER_ADMIN_URL",
              help="Run the admin commands through this server's admin API (its base URL) "
                   "[env: AUTHSERVER_ADMIN_URL].")
@click.option("--client-id", metavar="ID", envvar="AUTHSERVER_ADMIN_CLIENT_ID",
              help="With --server: an admin client (scope admin) [env: AUTHSERVER_ADMIN_CLIENT_ID].")
@click.option("--client-secret", metavar="SECRET", envvar="AUTHSERVER_ADMIN_CLIENT_SECRET",
              help="With --server: its secret; prefer the environment [env: AUTHSERVER_ADMIN_CLIENT_SECRET].")
@click.option("--realm-of-credentials", metavar="REALM", envvar="AUTHSERVER_ADMIN_REALM", default="default",
              show_default=True, help="With --server: the admin client's realm [env: AUTHSERVER_ADMIN_REALM].")
@click.pass_context
def main(ctx: click.Context, server: str | None, client_id: str | None, client_secret: str | None,
         realm_of_credentials: str) -> None:
    """authserver: an OAuth 2.0 authorization server for chat products."""
    if server is None:
        given = [f"--{n.replace('_', '-')}" for n in REMOTE_OPTIONS[1:]
                 if ctx.get_parameter_source(n) == ParameterSource.COMMANDLINE]
        if given:
            raise CLIError(f"{', '.join(given)}: only with --server URL (or AUTHSERVER_ADMIN_URL)")
        return
    if ctx.invoked_subcommand not in REMOTE_COMMANDS:
        if ctx.get_parameter_source("server") == ParameterSource.COMMANDLINE:
            raise CLIError(f"`{ctx.invoked_subcommand}` runs on the server's host, not through --server; "
                           f"--server takes: {', '.join(sorted(REMOTE_COMMANDS))}")
        return  # AUTHSERVER_ADMIN_URL names where the admin commands go; this one runs here
    if not client_id or not client_secret:
        raise CLIError("--server needs an admin client: --client-id and --client-secret, or "
                       "AUTHSERVER_ADMIN_CLIENT_ID and AUTHSERVER_ADMIN_CLIENT_SECRET")
    from authserver.cli.remote import RemoteAdmin

    ctx.meta[REMOTE] = RemoteAdmin(server, client_id, client_secret, realm_of_credentials)
    ctx.ensure_object(ScriptInfo).create_app = _no_local_app


def _no_local_app() -> Flask:
    """Under --server the commands need an app context (``AppGroup``) but nothing of an app."""
    return Flask("authserver.remote")


def _register_commands() -> None:
    from authserver.cli import (
        admin,
        audit,
        backends,
        clients,
        config,
        explain,
        idps,
        init,
        keys,
        plugins,
        realms,
        run,
        secrets,
        serve,
        usage,
        users,
        webhooks,
        worker,
    )

    for command in (init.init_command, run.run_command, serve.serve_command, realms.realms, keys.keys,
                    backends.backends, clients.clients, idps.idps, users.users, usage.usage_command,
                    audit.audit_command, admin.admin, plugins.plugins):
        main.add_command(command)
    main.add_command(webhooks.webhooks)
    main.add_command(explain.explain_command)
    main.add_command(worker.worker_command)
    main.add_command(config.config)
    main.add_command(secrets.secrets)


def _migrations_group() -> click.Group:
    """Flask-Migrate's ``db`` group, hidden from --help, Flask-Migrate enabled on the app first
    (:mod:`authserver.schema_migrations`). Built only when ``authserver db`` runs: Alembic is
    never loaded by the other commands, ``serve`` and its workers included."""
    from flask_migrate.cli import db

    from authserver import schema_migrations

    def callback(*args, **kwargs):
        schema_migrations.enable(click.get_current_context().ensure_object(ScriptInfo).load_app())
        return db.callback(*args, **kwargs)

    return click.Group(db.name, commands=db.commands, callback=callback, params=db.params, help=db.help,
                       hidden=True)


_register_commands()
