"""OIDC Core §5.3 UserInfo endpoint, with RFC 6750 bearer tokens: one of this realm's access
tokens from the browser login (scope ``openid``), active (not revoked, its user active)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify

from authserver.edge.bearer import bearer_token
from authserver.edge.realm_binding import bind_realm
from authserver.extensions import db
from authserver.models import User
from authserver.models.user import ACTIVE
from authserver.tokens.access_tokens import active_claims
from authserver.tokens.id_token import profile_claims, subject_of

blueprint = Blueprint("userinfo", __name__, url_prefix="/realms/<realm>")
blueprint.url_value_preprocessor(bind_realm)


@blueprint.route("/userinfo", methods=["GET", "POST"])
def userinfo():
    ctx = g.realm_ctx
    token = bearer_token()
    if token is None:
        return _challenge("invalid_request", "a bearer token is required", 401)
    claims = active_claims(ctx, token)
    scopes = str((claims or {}).get("scope", "")).split()
    if claims is None or "uid" not in claims:
        return _challenge("invalid_token", "the access token is not valid", 401)
    if "openid" not in scopes:
        return _challenge("insufficient_scope", "the access token lacks the openid scope", 403)
    user = db.session.query(User).filter_by(realm_id=ctx.realm.id, uid=claims["uid"]).first()
    if user is None or user.state != ACTIVE:
        return _challenge("invalid_token", "the access token is not valid", 401)
    body = {"sub": subject_of(user), **profile_claims(user, scopes, bool(claims.get("verified")))}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def _challenge(error: str, description: str, status: int):
    """RFC 6750 §3: the error in ``WWW-Authenticate`` and in the body."""
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    response.headers["WWW-Authenticate"] = f'Bearer error="{error}", error_description="{description}"'
    response.headers["Cache-Control"] = "no-store"
    return response
