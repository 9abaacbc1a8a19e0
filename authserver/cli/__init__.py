"""The ``authserver`` command: a Flask CLI group, one sub-group per noun.

Every command is a thin wrapper over the same service functions the admin API calls.
Bad input prints one line on stderr and exits with status 2.
"""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from authserver import __version__
from authserver.config import ConfigError
from authserver.errors import ServiceError


class CLIError(click.ClickException):
    exit_code = 2


class AuthserverGroup(FlaskGroup):
    """Turns domain, configuration and usage errors into one line and exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (ServiceError, ConfigError) as exc:
            raise CLIError(str(exc)) from None
        except click.UsageError as exc:
            raise CLIError(exc.format_message()) from None


def _create_app():
    from authserver import create_app

    return create_app()


@click.group(cls=AuthserverGroup, create_app=_create_app, add_version_option=False,
             add_default_commands=True, load_dotenv=False)
@click.version_option(__version__, prog_name="authserver")
def main() -> None:
    """authserver: an OAuth 2.0 authorization server for chat products."""


def _register_commands() -> None:
    from authserver.cli import (
        admin,
        audit,
        backends,
        clients,
        idps,
        init,
        keys,
        plugins,
        realms,
        serve,
        usage,
        users,
    )

    main.add_command(init.init_command)
    main.add_command(realms.realms)
    main.add_command(keys.keys)
    main.add_command(serve.serve_command)
    main.add_command(backends.backends)
    main.add_command(clients.clients)
    main.add_command(audit.audit_command)
    main.add_command(admin.admin)
    main.add_command(idps.idps)
    main.add_command(users.users)
    main.add_command(usage.usage_command)
    main.add_command(plugins.plugins)


_register_commands()
