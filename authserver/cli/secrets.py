"""``authserver secrets``: which SECRET_KEY seals the database, and its rotation.

Rotating ``SECRET_KEY`` (the README's procedure; :mod:`authserver.sealing`):

1. On every host: the new key as ``SECRET_KEY``, the old one in ``SECRET_KEY_FALLBACKS``;
   restart. Hosts keep sealing under the key the database names, so it can be rolled.
2. On one host: ``authserver secrets reseal``. Every value is re-sealed under the new key.
3. On every host: ``authserver secrets status`` says ``can_drop_fallbacks: true``; remove
   ``SECRET_KEY_FALLBACKS`` and restart. A host still holding only the old key now refuses to
   start, and ``/readyz`` of a running one names the reason.
"""

from __future__ import annotations

from flask.cli import AppGroup

from authserver.cli.output import emit, json_option
from authserver.sealing import reseal, status

secrets = AppGroup("secrets", help="The SECRET_KEY that seals the database, and its rotation.")


@secrets.command("status")
@json_option
def status_command(as_json: bool) -> None:
    """Fingerprints of the database's key and of this host's keys; stored values per key."""
    emit(status().to_dict(), as_json,
         ("database_key", "secret_key", "fallbacks", "values_by_key", "can_drop_fallbacks"))


@secrets.command("reseal")
@json_option
def reseal_command(as_json: bool) -> None:
    """Re-seal every stored secret under SECRET_KEY (the old one in SECRET_KEY_FALLBACKS)."""
    emit(reseal(), as_json, ("database_key", "previous_key", "resealed"))
