"""Signing keys per realm (RFC 7517 JWKS, RFC 7638 ``kid``): life cycle and an in-memory cache.

``next`` → ``active`` → ``retired`` → removed. ``rotate`` adds a ``next`` key, published at
once; it starts signing after ``KEY_PREPUBLICATION_SECONDS`` (longer than the JWKS
``max-age``, so every verifier has it before it sees a token it signed). The key it
replaces stays published until ``MAX_TOKEN_LIFETIME`` + clock skew has passed.

Transitions happen lazily in :meth:`KeyService.maintain`, run whenever a process refreshes
its cache, with conditional updates that are safe when several processes run them at once;
partial unique indexes guarantee at most one ``active`` and one ``next`` key per realm.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from joserfc.jwk import KeySet
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from authserver.config import SIGNING_ALGORITHMS
from authserver.crypto import SecretBox
from authserver.errors import Conflict, InvalidInput, NotFound
from authserver.events.outbox import publish
from authserver.extensions import db
from authserver.keys import jose
from authserver.models import KeyState, Realm, SigningKey
from authserver.registry import audit, paging

log = logging.getLogger(__name__)
KEY_ORDER = paging.Order("keys", (SigningKey.activates_at, SigningKey.id), descending=True)


@dataclass(frozen=True)
class ActiveKey:
    kid: str
    alg: str
    key: Any  # joserfc private key object, kept in memory, never serialized


@dataclass
class _RealmKeys:
    realm_id: int
    active: ActiveKey | None
    jwks: dict
    valid_until: float
    states: dict[str, str] = field(default_factory=dict)
    keyset: KeySet | None = None  # the published keys, imported once (verifying our tokens)


class KeyService:
    def __init__(self, config: dict, box: SecretBox, clock):
        self._config = config
        self._box = box
        self._clock = clock
        self._cache: dict[str, _RealmKeys] = {}
        self._lock = threading.Lock()

    # --- queries used on every request: served from memory ---------------------------

    def signing_key(self, realm_name: str) -> ActiveKey:
        active = self._cached(realm_name).active
        if active is None:
            raise NotFound(f"realm {realm_name!r} has no active signing key")
        return active

    def jwks(self, realm_name: str) -> dict:
        return self._cached(realm_name).jwks

    def verification_keys(self, realm_name: str) -> KeySet:
        """The published keys (``next``, ``active``, ``retired``) as joserfc keys, imported once
        per cache refresh."""
        entry = self._cached(realm_name)
        if entry.keyset is None:
            entry.keyset = KeySet.import_key_set(entry.jwks)
        return entry.keyset

    def invalidate(self, realm_name: str | None = None) -> None:
        with self._lock:
            if realm_name is None:
                self._cache.clear()
            else:
                self._cache.pop(realm_name, None)

    def _cached(self, realm_name: str) -> _RealmKeys:
        entry = self._cache.get(realm_name)
        if entry is None or self._clock() >= entry.valid_until:
            try:
                entry = self._load(realm_name)
            except SQLAlchemyError:
                if entry is None:
                    raise
                db.session.rollback()  # database down: keep answering from memory
                log.warning("signing keys of realm %s served from memory: database unavailable",
                            realm_name)
                return entry
            with self._lock:
                self._cache[realm_name] = entry
        return entry

    def _load(self, realm_name: str) -> _RealmKeys:
        realm = db.session.scalar(select(Realm).where(Realm.name == realm_name))
        if realm is None:
            raise NotFound(f"no realm named {realm_name!r}")
        self.maintain(realm)
        keys = self.list_keys(realm)
        now = self._clock()
        valid_until = now + self._config["KEY_CACHE_SECONDS"]
        for key in keys:
            if key.state == KeyState.NEXT:
                valid_until = min(valid_until, key.activates_at)
        active = next((k for k in keys if k.state == KeyState.ACTIVE), None)
        return _RealmKeys(
            realm_id=realm.id,
            active=self._unseal(active) if active else None,
            jwks={"keys": [k.public_dict for k in keys]},
            valid_until=valid_until,
        )

    def _unseal(self, row: SigningKey) -> ActiveKey:
        pem = self._box.open(row.private_key_sealed, context=f"signing-key:{row.kid}")
        return ActiveKey(kid=row.kid, alg=row.alg, key=jose.load_private_key(row.alg, pem))

    # --- administration ----------------------------------------------------------------

    def list_keys(self, realm: Realm) -> list[SigningKey]:
        order = (SigningKey.activates_at.desc(), SigningKey.id.desc())
        return list(db.session.scalars(
            select(SigningKey).where(SigningKey.realm_id == realm.id).order_by(*order)))

    def create_active_key(self, realm: Realm, alg: str | None = None) -> SigningKey:
        """The first key of a new realm: active at once (nothing to pre-publish for)."""
        now = int(self._clock())
        row = self._new_row(realm, self._check_alg(alg), KeyState.ACTIVE, activates_at=now)
        db.session.add(row)
        return row

    def rotate(self, realm: Realm, alg: str | None = None, actor: str = "system") -> SigningKey:
        """Add a ``next`` key, audited as ``actor``'s; refuse while another rotation is pending."""
        alg = self._check_alg(alg)
        self._apply_transitions(realm)
        return self._add_next_key(realm, alg, actor, audited=True)

    def maintain(self, realm: Realm) -> None:
        """Promote a due ``next`` key, delete expired ``retired`` keys, rotate by age."""
        self._apply_transitions(realm)
        interval = self._config["KEY_ROTATION_INTERVAL"]
        if interval and self._rotation_due(realm.id, int(self._clock()), interval):
            with contextlib.suppress(Conflict):  # another process rotated first
                self._add_next_key(realm, self._check_alg(None))

    def _apply_transitions(self, realm: Realm) -> None:
        now = int(self._clock())
        try:
            self._promote_due_key(realm, now)
            self._remove_expired(realm.id, now)
            db.session.commit()
        except (IntegrityError, OperationalError):
            db.session.rollback()  # another process did the same work first

    def _add_next_key(self, realm: Realm, alg: str, actor: str = "system", audited: bool = False) -> SigningKey:
        activates_at = int(self._clock()) + self._config["KEY_PREPUBLICATION_SECONDS"]
        row = self._new_row(realm, alg, KeyState.NEXT, activates_at=activates_at)
        db.session.add(row)
        publish(realm, "key.rotated", row.to_dict(), actor)
        if audited:  # an admin's rotation (automatic ones are the key.rotated event alone)
            audit.record(realm, actor, "key.rotate", "key", row.kid, after=row.to_dict())
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise Conflict(f"a rotation of realm {realm.name!r} is already pending: "
                           "its next key starts signing soon") from None
        self.invalidate(realm.name)
        return row

    def _promote_due_key(self, realm: Realm, now: int) -> None:
        due = db.session.scalar(select(SigningKey.id).where(
            SigningKey.realm_id == realm.id, SigningKey.state == KeyState.NEXT,
            SigningKey.activates_at <= now))
        if due is None:
            return
        retiring = list(db.session.scalars(select(SigningKey.id).where(
            SigningKey.realm_id == realm.id, SigningKey.state == KeyState.ACTIVE)))
        remove_after = now + self._config["MAX_TOKEN_LIFETIME"] + self._config["CLOCK_SKEW_SECONDS"]
        db.session.execute(
            update(SigningKey)
            .where(SigningKey.realm_id == realm.id, SigningKey.state == KeyState.ACTIVE)
            .values(state=KeyState.RETIRED, retired_at=now, remove_after=remove_after))
        promoted = db.session.execute(
            update(SigningKey).where(SigningKey.id == due, SigningKey.state == KeyState.NEXT)
            .values(state=KeyState.ACTIVE)).rowcount
        if promoted:
            self._publish_promotion(realm, retiring, due)

    def _publish_promotion(self, realm: Realm, retired: list[int], activated: int) -> None:
        rows = {row.id: row for row in db.session.scalars(
            select(SigningKey).where(SigningKey.id.in_([*retired, activated]))
            .execution_options(populate_existing=True))}
        for pk in retired:
            if pk in rows:
                publish(realm, "key.retired", rows[pk].to_dict(), "system")
        publish(realm, "key.activated", rows[activated].to_dict(), "system")

    def _remove_expired(self, realm_id: int, now: int) -> None:
        db.session.execute(delete(SigningKey).where(
            SigningKey.realm_id == realm_id, SigningKey.state == KeyState.RETIRED,
            SigningKey.remove_after <= now))

    def _rotation_due(self, realm_id: int, now: int, interval: int) -> bool:
        states = dict(db.session.execute(
            select(SigningKey.state, SigningKey.activates_at).where(
                SigningKey.realm_id == realm_id,
                SigningKey.state.in_([KeyState.ACTIVE, KeyState.NEXT]))).all())
        active_since = states.get(KeyState.ACTIVE)
        return KeyState.NEXT not in states and active_since is not None \
            and now - active_since >= interval

    def _new_row(self, realm: Realm, alg: str, state: KeyState, activates_at: int) -> SigningKey:
        key = jose.generate_private_key(alg, self._config["RSA_KEY_SIZE"])
        jwk = jose.public_jwk(key, alg)
        sealed = self._box.seal(jose.private_pem(key), context=f"signing-key:{jwk['kid']}")
        return SigningKey(realm_id=realm.id, kid=jwk["kid"], alg=alg, state=state,
                          public_jwk=jose.canonical_json(jwk), private_key_sealed=sealed,
                          created_at=int(self._clock()), activates_at=activates_at)

    def _check_alg(self, alg: str | None) -> str:
        alg = alg or self._config["DEFAULT_SIGNING_ALG"]
        if alg not in SIGNING_ALGORITHMS:
            raise InvalidInput(f"unsupported signing algorithm {alg!r}: "
                               f"choose one of {', '.join(SIGNING_ALGORITHMS)}")
        return alg


    # --- a compromised key, a cancelled rotation ---------------------------------------------

    def retire_now(self, realm: Realm, kid: str, actor: str) -> dict:
        """A compromised key leaves the JWKS now: tokens it signed stop verifying here at once
        (in other processes within KEY_CACHE_SECONDS; verifiers that cached the JWKS, within
        JWKS_MAX_AGE). When it was the active key, the pending ``next`` key signs from now on,
        else a new key of the same algorithm. Returns ``{"retired": …, "activated": … | None}``."""
        self._apply_transitions(realm)
        row = self._find_key(realm, kid)
        now, before = int(self._clock()), row.to_dict()
        self._delete_key(realm, row, f"key {kid!r} of realm {realm.name!r} was just changed; try again")
        activated = self._activate_now(realm, before["alg"], now) if before["state"] == KeyState.ACTIVE else None
        retired = {**before, "state": KeyState.RETIRED.value, "retired_at": now, "remove_after": now}
        publish(realm, "key.retired", retired, actor)
        if activated is not None:
            publish(realm, "key.activated", activated.to_dict(), actor)
        audit.record(realm, actor, "key.retire_now", "key", kid, before=before,
                     after={**retired, "activated": activated.kid if activated else None})
        self._commit_key_change(realm)
        return {"retired": retired, "activated": activated.to_dict() if activated else None}

    def cancel_rotation(self, realm: Realm, actor: str) -> dict:
        """Drop the pending ``next`` key (published, never used to sign); returns it, removed."""
        self._apply_transitions(realm)  # a next key already due has become active: not pending
        pending = db.session.scalar(select(SigningKey).where(
            SigningKey.realm_id == realm.id, SigningKey.state == KeyState.NEXT))
        if pending is None:
            raise Conflict(f"no rotation of realm {realm.name!r} is pending (it has no next key)")
        now, before = int(self._clock()), pending.to_dict()
        self._delete_key(realm, pending, f"the rotation of realm {realm.name!r} is no longer pending")
        dropped = {**before, "state": KeyState.RETIRED.value, "retired_at": now, "remove_after": now}
        publish(realm, "key.retired", dropped, actor)
        audit.record(realm, actor, "key.cancel_rotation", "key", before["kid"], before=before, after=dropped)
        self._commit_key_change(realm)
        return dropped

    def _find_key(self, realm: Realm, kid: str) -> SigningKey:
        row = db.session.scalar(select(SigningKey).where(SigningKey.realm_id == realm.id, SigningKey.kid == kid))
        if row is None:
            raise NotFound(f"no key {kid!r} in realm {realm.name!r}")
        return row

    def _delete_key(self, realm: Realm, row: SigningKey, gone: str) -> None:
        """Delete the row as read (same state), or refuse: another process changed it first."""
        deleted = db.session.execute(delete(SigningKey).where(
            SigningKey.id == row.id, SigningKey.state == row.state)).rowcount
        if not deleted:
            db.session.rollback()
            raise Conflict(gone)

    def _activate_now(self, realm: Realm, alg: str, now: int) -> SigningKey:
        """The pending ``next`` key becomes active now, else a new key does."""
        pending = db.session.scalar(select(SigningKey).where(
            SigningKey.realm_id == realm.id, SigningKey.state == KeyState.NEXT))
        if pending is not None:
            pending.state, pending.activates_at = KeyState.ACTIVE, now
            return pending
        row = self._new_row(realm, self._check_alg(alg), KeyState.ACTIVE, activates_at=now)
        db.session.add(row)
        return row

    def _commit_key_change(self, realm: Realm) -> None:
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            raise Conflict(f"the keys of realm {realm.name!r} changed meanwhile; try again") from None
        finally:
            self.invalidate(realm.name)

    def page_keys(self, realm: Realm, limit: int | None = None, cursor: str | None = None,
                  state: str | None = None) -> paging.Page:
        """:meth:`list_keys` a page at a time (the admin lists), optionally of one state."""
        query = select(SigningKey).where(SigningKey.realm_id == realm.id)
        if paging.choice_filter(state, "state", [s.value for s in KeyState]) is not None:
            query = query.where(SigningKey.state == state)
        return paging.page(query, KEY_ORDER, limit, cursor)
