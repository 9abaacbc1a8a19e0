"""``authserver plugins list``: installed connectors and token profiles."""

from __future__ import annotations

from flask.cli import AppGroup

from authserver.cli.output import emit, json_option
from authserver.plugin_host.loader import describe

plugins = AppGroup("plugins", help="Installed plugins (enabled only when configuration names them).")


@plugins.command("list")
@json_option
def list_(as_json):
    """List connector and token profile plugins found through entry points."""
    emit(describe(), as_json, ("kind", "name", "target", "distribution"))
