"""One admin command, run in one of two places: here, on this host's database, through the
service functions; or, under ``authserver --server URL``, through that server's admin API
(:mod:`authserver.cli.remote`), whose views call the same functions. Either way the command
gets the same JSON back, so it prints the same output and fails with the same line.

A command names both: the admin API request (method, path under ``/admin``, body, query) and
the local call that answers it (``tests/admin/test_parity.py`` shows they agree).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import click

REMOTE = "authserver.remote"  # click context meta key: the RemoteAdmin of `--server`


def remote_admin():
    """The :class:`~authserver.cli.remote.RemoteAdmin` of ``--server``, or None (local)."""
    ctx = click.get_current_context(silent=True)
    return ctx.meta.get(REMOTE) if ctx is not None else None


def admin_call(method: str, path: str, local: Callable[[], Any], *, body: dict | None = None,
               query: dict | None = None) -> Any:
    """``local()`` here, or ``method path`` on the remote server: the answer as JSON values."""
    remote = remote_admin()
    if remote is None:
        return local()
    return remote.request(method, path, body=body, query=query)


def realm_path(realm: str, *segments: str) -> str:
    """``/realms/{realm}/…`` with every segment percent-encoded (ids may hold ``/`` or ``:``)."""
    return "/" + "/".join(quote(part, safe="") for part in ("realms", realm, *segments))


def admin_list(path: str, local: Callable[[], Any], query: dict[str, Any]) -> Any:
    """A page of a list (:class:`~authserver.registry.paging.Page` of JSON values): ``local()``
    here, or ``GET path`` with ``query`` (the API's names; None: not given) on the remote server."""
    remote = remote_admin()
    if remote is None:
        return local()
    return remote.list(path, query)
