"""Liveness and readiness probes. Ready: the database answers, this host's SECRET_KEY unseals
it (:mod:`authserver.sealing`), and every realm has an active signing key."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import select, text
from sqlalchemy.exc import SQLAlchemyError

from authserver import sealing
from authserver.extensions import db
from authserver.models import KeyState, Realm, SigningKey

blueprint = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@blueprint.get("/healthz")
def healthz():
    return jsonify({"status": "ok"})


@blueprint.get("/readyz")
def readyz():
    try:
        db.session.execute(text("SELECT 1"))
        unsealable = sealing.problem()
        missing = realms_without_active_key()
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("readiness: database unreachable")
        return jsonify({"status": "unavailable", "reason": "database unreachable"}), 503
    if unsealable:
        log.error("readiness: %s", unsealable)
        return jsonify({"status": "unavailable", "reason": unsealable}), 503
    if missing:
        return jsonify({"status": "unavailable",
                        "reason": f"no active signing key in realm(s): {', '.join(missing)}"}), 503
    return jsonify({"status": "ready"})


def realms_without_active_key() -> list[str]:
    with_active = select(SigningKey.realm_id).where(SigningKey.state == KeyState.ACTIVE)
    rows = db.session.scalars(select(Realm.name).where(Realm.id.not_in(with_active)))
    return sorted(rows)


