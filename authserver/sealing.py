"""The database seal: which ``SECRET_KEY`` seals this database, so that a host with another key
refuses to start instead of answering 500s.

The database records the :func:`~authserver.crypto.key_fingerprint` of the key that seals it
(never the key) and its hashing key, sealed under that key (:mod:`authserver.models.seal`).
The first process that starts with a key on an unsealed database records it, after checking
that the key opens what is already stored there. From then on:

- a host whose ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` do not include the recorded key
  refuses to start (:class:`SealMismatch`, one line naming where to copy ``SECRET_KEY`` from),
  and ``/readyz`` names the reason if the database is re-sealed under its feet;
- every host seals new values under the recorded key, whatever its own ``SECRET_KEY``, so
  hosts rolled onto a new key keep working beside hosts not yet rolled;
- ``authserver secrets reseal`` (:func:`reseal`) re-seals every value under ``SECRET_KEY``
  and records it: after that, the old key can leave ``SECRET_KEY_FALLBACKS``.

Hashes (client secrets, session and registration tokens) cannot be re-computed without their
plaintext, so the hashing key is the database's: derived once from the key that first sealed
it, and only re-sealed by a rotation. Every stored hash stays valid.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from flask import Flask, current_app
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from authserver.config import ConfigError
from authserver.crypto import DecryptionError, SecretBox, hashing_key_for, key_fingerprint
from authserver.extensions import db
from authserver.models import AuthorizationRequest, ChatBackend, IdentityProvider, SigningKey, WebhookSubscription
from authserver.models.seal import SEAL_ID, DatabaseSeal
from authserver.plugin_host.profiles import credential_context
from authserver.state import EXTENSION, app_state

log = logging.getLogger(__name__)
HASHING_KEY_CONTEXT = "database-hashing-key"

# Every sealed column, with the associated data its value was sealed with (as the modules
# that seal them do: keys.service, registry.idps, registry.backends, events.subscriptions).
@dataclass(frozen=True)
class Sealed:
    kind: str
    model: type
    column: str
    context: Callable[[object], str]
    label: Callable[[object], str]


SEALED: tuple[Sealed, ...] = (
    Sealed("signing key", SigningKey, "private_key_sealed", lambda r: f"signing-key:{r.kid}", lambda r: r.kid),
    Sealed("IdP secret", IdentityProvider, "secret_sealed", lambda r: f"idp-secret:{r.realm_id}:{r.name}",
           lambda r: r.name),
    Sealed("IdP upstream client secret", IdentityProvider, "upstream_secret_sealed",
           lambda r: f"idp-upstream-secret:{r.realm_id}:{r.name}", lambda r: r.name),
    Sealed("browser login in progress", AuthorizationRequest, "upstream_leg_sealed",
           lambda r: f"upstream-leg:{r.realm_id}:{r.idp_name}", lambda r: str(r.id)),
    Sealed("backend credential", ChatBackend, "credential_sealed", credential_context, lambda r: r.audience),
    *(Sealed("webhook secret", WebhookSubscription, column, lambda r: f"webhook-secret:{r.public_id}",
             lambda r: r.public_id) for column in ("secret_sealed", "previous_secret_sealed")),
)


class SealMismatch(ConfigError):
    """This host's keys do not include the one that seals the database."""

    def __init__(self, sealed_by: str | None, holds: str, config_path: str):
        what = (f"this database is sealed by another SECRET_KEY (fingerprint {sealed_by}; this one is "
                f"{holds})" if sealed_by else
                f"the signing keys stored in this database do not open with this SECRET_KEY ({holds})")
        super().__init__("SECRET_KEY", f"{what}: copy SECRET_KEY from the instance config.py of a host "
                         f"that serves this database into {config_path} (or AUTHSERVER_SECRET_KEY)")
        self.sealed_by, self.holds, self.config_path = sealed_by, holds, config_path


def init_app(app: Flask) -> None:
    """Give the app's box its fallbacks, then check the seal at start. A database that
    cannot be reached is followed from its first use instead (and ``/readyz`` says so); one
    without the schema yet is sealed under SECRET_KEY, as ``init`` will record."""
    state = app.extensions[EXTENSION]
    state.box.add_fallbacks(app.config["SECRET_KEY_FALLBACKS"])
    with app.app_context():
        try:
            migrated = inspect(db.engine).has_table(DatabaseSeal.__tablename__)
        except SQLAlchemyError:
            log.warning("the database seal is not checked at start: database unreachable")
            _follow_the_database(state)
            return
        if migrated:
            ensure_sealed()


def ensure_sealed() -> DatabaseSeal:
    """The seal, recorded now if the database has none; :class:`SealMismatch` if this
    host's keys cannot open it. From then on the app seals under the key the database
    names and hashes with the database's hashing key."""
    state = app_state()
    row = _read()
    if row is None:
        row = _record()
    if row.key_fingerprint not in state.box.fingerprints:
        raise SealMismatch(row.key_fingerprint, state.box.fingerprint, _config_path())
    _follow_the_database(state)
    state.hasher.use_key(state.box.open(row.hashing_key_sealed, HASHING_KEY_CONTEXT))
    db.session.commit()
    return row


def _follow_the_database(state) -> None:
    state.box.seal_under(_recorded_fingerprint)
    state.hasher.load_key_with(_stored_hashing_key)


def problem() -> str | None:
    """Why this host cannot unseal the database, for ``/readyz``; ``None`` when it can."""
    row = _read()
    box = app_state().box
    if row is None or row.key_fingerprint in box.fingerprints:
        return None
    return (f"SECRET_KEY does not unseal this database (sealed by key {row.key_fingerprint}, this host "
            f"holds {', '.join(box.fingerprints)})")


def _read(lock: bool = False) -> DatabaseSeal | None:
    query = select(DatabaseSeal).where(DatabaseSeal.id == SEAL_ID).execution_options(populate_existing=True)
    return db.session.scalar(query.with_for_update() if lock else query)


def _record() -> DatabaseSeal:
    """Record the key that opens what is stored (SECRET_KEY when nothing is)."""
    box, keys = app_state().box, _keys_by_fingerprint()
    probe = db.session.scalars(select(SigningKey).limit(1)).first()
    fingerprint = box.fingerprint
    if probe is not None:
        try:
            fingerprint = box.open_with(probe.private_key_sealed, f"signing-key:{probe.kid}")[1]
        except DecryptionError:
            raise SealMismatch(None, box.fingerprint, _config_path()) from None
    row = DatabaseSeal(id=SEAL_ID, key_fingerprint=fingerprint, sealed_at=int(app_state().clock()),
                       hashing_key_sealed=box.seal(hashing_key_for(keys[fingerprint]), HASHING_KEY_CONTEXT,
                                                   fingerprint=fingerprint))
    db.session.add(row)
    try:
        db.session.commit()
    except IntegrityError:  # another process recorded it first
        db.session.rollback()
        return _read()
    return row


def _recorded_fingerprint() -> str | None:
    """The key new values are sealed under. On PostgreSQL the seal row is share-locked until
    the change commits, so a concurrent :func:`reseal` waits for it, then sees its value."""
    with db.session.no_autoflush:
        fingerprint = db.session.scalar(select(DatabaseSeal.key_fingerprint)
                                        .where(DatabaseSeal.id == SEAL_ID).with_for_update(read=True))
    box = app_state().box
    if fingerprint is not None and fingerprint not in box.fingerprints:
        raise SealMismatch(fingerprint, box.fingerprint, _config_path())
    return fingerprint


def _stored_hashing_key() -> bytes | None:
    row = _read()
    return None if row is None else app_state().box.open(row.hashing_key_sealed, HASHING_KEY_CONTEXT)


def _keys_by_fingerprint() -> dict[str, str]:
    keys = [current_app.config["SECRET_KEY"], *current_app.config["SECRET_KEY_FALLBACKS"]]
    return {key_fingerprint(key): key for key in keys}


def _config_path() -> str:
    return os.path.join(current_app.instance_path, "config.py")


# --- rotation of SECRET_KEY ----------------------------------------------------------------


@dataclass
class Status:
    """Which key seals the database, and how many stored values each key opens."""

    database: str | None
    secret_key: str
    fallbacks: list[str]
    values: dict[str, int] = field(default_factory=dict)  # fingerprint (or "unreadable") → count

    def to_dict(self) -> dict:
        return {"database_key": self.database, "secret_key": self.secret_key, "fallbacks": self.fallbacks,
                "values_by_key": self.values,
                "can_drop_fallbacks": self.database == self.secret_key and set(self.values) <= {self.secret_key}}


def status() -> Status:
    box = app_state().box
    row = _read()
    result = Status(row.key_fingerprint if row else None, box.fingerprint, box.fingerprints[1:])
    for _, _, _, _, sealed, context in _sealed_values():
        try:
            opened_by = box.open_with(sealed, context)[1]
        except DecryptionError:
            opened_by = "unreadable"
        result.values[opened_by] = result.values.get(opened_by, 0) + 1
    return result


def reseal() -> dict:
    """Re-seal every stored value, and the hashing key, under SECRET_KEY, and record it.

    The seal row is locked first, so values sealed concurrently either commit before (and are
    re-sealed here) or wait and are sealed under the new key. A second pass catches any value
    an older process sealed under the previous key meanwhile (SQLite, or no lock)."""
    box = app_state().box
    if _read() is None:
        ensure_sealed()
    row = _read(lock=True)
    previous = row.key_fingerprint
    hashing_key = box.open(row.hashing_key_sealed, HASHING_KEY_CONTEXT)
    row.hashing_key_sealed = box.seal(hashing_key, HASHING_KEY_CONTEXT, fingerprint=box.fingerprint)
    row.key_fingerprint, row.sealed_at = box.fingerprint, int(app_state().clock())
    try:
        counts = _reseal_values(box)
        db.session.commit()
        late = _reseal_values(box)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    for kind, count in late.items():
        counts[kind] = counts.get(kind, 0) + count
    return {"database_key": box.fingerprint, "previous_key": previous, "resealed": counts}


def _reseal_values(box: SecretBox) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind, row, column, label, sealed, context in _sealed_values():
        try:
            plaintext, opened_by = box.open_with(sealed, context)
        except DecryptionError:
            raise ConfigError("SECRET_KEY_FALLBACKS", f"{kind} {label} opens with neither SECRET_KEY nor a "
                              "fallback: add the key that sealed it to SECRET_KEY_FALLBACKS") from None
        if opened_by != box.fingerprint:
            setattr(row, column, box.seal(plaintext, context, fingerprint=box.fingerprint))
            counts[kind] = counts.get(kind, 0) + 1
    db.session.flush()
    return counts


def _sealed_values() -> Iterator[tuple[str, object, str, str, bytes, str]]:
    """(kind, row, column, label, sealed value, context) of every value sealed at rest."""
    for sealed in SEALED:
        model, column = sealed.model, sealed.column
        rows = db.session.scalars(select(model).where(getattr(model, column).is_not(None))
                                  .order_by(model.id).execution_options(populate_existing=True))
        for row in rows:
            yield (sealed.kind, row, column, sealed.label(row), bytes(getattr(row, column)),
                   sealed.context(row))
