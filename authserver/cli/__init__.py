"""The ``authserver`` command: one click group, one sub-group per noun.

Every command is a thin wrapper over the same service functions the admin API calls. The app
is built only when a command needs it (``with_appcontext``, :class:`flask.cli.AppGroup`), so
``--help`` works anywhere, even before ``authserver init``. Every failure prints one line on
stderr and exits with status 2 (:mod:`authserver.cli.failures`).
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import ScriptInfo

from authserver import __version__
from authserver.cli.failures import CLIError, one_line

__all__ = ["CLIError", "main"]

# A group run without a command prints its help (click >= 8.2 raises this for it): not a failure.
_HELP_INSTEAD = tuple(filter(None, [getattr(click.exceptions, "NoArgsIsHelpError", None)]))


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
def main() -> None:
    """authserver: an OAuth 2.0 authorization server for chat products."""


def _register_commands() -> None:
    from flask_migrate.cli import db

    from authserver.cli import (
        admin,
        audit,
        backends,
        clients,
        config,
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
    main.add_command(worker.worker_command)
    main.add_command(config.config)
    main.add_command(secrets.secrets)
    # Flask-Migrate's `db` group (`authserver db upgrade`): for operators, not listed in --help.
    main.add_command(_hidden(db), "db")


def _hidden(group: click.Group) -> click.Group:
    """A copy of ``group`` that --help does not list (the library's own object is left alone)."""
    return click.Group(group.name, commands=group.commands, callback=group.callback,
                       params=group.params, help=group.help, hidden=True)


_register_commands()
