"""Console pages for what happens in a realm: users (search, paging, disable, enable, revoke
tokens, delete, identity links and merge history), signing keys, monthly usage (chart and
CSV), the audit log, webhooks and their deliveries, and "explain". Each action calls the
service function the CLI and the admin API call."""

from __future__ import annotations

from flask import Blueprint, Response, g, request
from sqlalchemy import select

from authserver.console.web import Refused, action, confirmed, field, page, signed_in_only
from authserver.events import subscriptions
from authserver.extensions import db
from authserver.grants.explain import explain_for
from authserver.identity import users
from authserver.models import IdentityLink, IdentityProvider, User
from authserver.registry import audit
from authserver.registry.realms import get_realm
from authserver.state import app_state
from authserver.tokens import usage
from authserver.tokens.revocation import revoke_user_tokens

blueprint = Blueprint("console_people", __name__)
USER_SEARCH = {"user_id": "user_id", "email": "email", "_id": "uid"}
AUDIT_FILTERS = ("action", "actor", "target_type", "target_id")
PAGE_SIZE = 25
TOKEN_TYPES = ("urn:ietf:params:oauth:token-type:id_token", "urn:ietf:params:oauth:token-type:jwt",
               "urn:ietf:params:oauth:token-type:access_token")


def query(name: str, limit: int = 512) -> str | None:
    """A query parameter: once at most, bounded, no control characters."""
    values = request.args.getlist(name)
    if len(values) > 1 or any(len(v) > limit or any(ord(c) < 0x20 for c in v) for v in values):
        raise Refused(f"{name}: give it once, as plain text")
    return (values[0].strip() or None) if values else None


# --- users -------------------------------------------------------------------------------


@blueprint.get("/realms/<realm>/users")
@signed_in_only
def users_page(realm: str, error: str | None = None, notice: str | None = None):
    by, text, cursor = query("by") or "user_id", query("q", 320), query("cursor")
    if by not in USER_SEARCH:
        raise Refused("by: user_id, email or _id")
    filters = {USER_SEARCH[by]: text} if text else {}
    found = users.list_users(get_realm(realm), PAGE_SIZE, cursor, **filters)
    return page("users.html", realm_name=realm, users_shown=[user.to_dict() for user in found],
                next_cursor=found.next_cursor, by=by, q=text or "", error=error, notice=notice)


@blueprint.get("/realms/<realm>/users/<user>")
@signed_in_only
def user_page(realm: str, user: str, error: str | None = None, notice: str | None = None):
    row = users.get_user(get_realm(realm), user)
    links = db.session.execute(select(IdentityProvider.name, IdentityLink.subject, IdentityLink.first_login_at,
                                      IdentityLink.last_login_at)
                               .join(IdentityProvider, IdentityProvider.id == IdentityLink.idp_id)
                               .where(IdentityLink.user_pk == row.id).order_by(IdentityLink.id)).all()
    merged_in = db.session.scalars(select(User).where(User.realm_id == row.realm_id, User.merged_into == row.uid)
                                   .order_by(User.id)).all()
    return page("user.html", realm_name=realm, user=row.to_dict(), console_role=row.console_role,
                links=[dict(link._mapping) for link in links], merged_in=[u.to_dict() for u in merged_in],
                error=error, notice=notice)


#: verb in the URL -> (the service call, what the page then says)
USER_ACTIONS = {
    "disable": (lambda realm, user, actor: users.set_user_disabled(realm, user, True, actor), "User disabled."),
    "enable": (lambda realm, user, actor: users.set_user_disabled(realm, user, False, actor), "User enabled."),
    "revoke-tokens": (revoke_user_tokens, "Every token issued to this user until now is revoked "
                                          "(logged out everywhere)."),
}


@blueprint.post("/realms/<realm>/users/<user>/<any('disable','enable','revoke-tokens'):verb>")
@action(user_page)
def user_action(form, realm: str, user: str, verb: str):
    call, notice = USER_ACTIONS[verb]
    call(get_realm(realm), user, g.console.session.actor)
    return user_page(realm, user, notice=notice)


@blueprint.post("/realms/<realm>/users/<user>/delete")
@action(user_page)
def delete_user(form, realm: str, user: str):
    confirmed(form, f"erase user {user}")
    users.delete_user(get_realm(realm), user, g.console.session.actor)
    return users_page(realm, notice=f"User {user} erased.")


# --- keys --------------------------------------------------------------------------------


@blueprint.get("/realms/<realm>/keys")
@signed_in_only
def keys_page(realm: str, error: str | None = None, notice: str | None = None):
    service, realm_row = app_state().keys, get_realm(realm)
    service.maintain(realm_row)
    rows = [key.to_dict() for key in service.page_keys(realm_row, 100)]
    return page("keys.html", realm_name=realm, keys_shown=rows, error=error, notice=notice)


@blueprint.post("/realms/<realm>/keys/rotate")
@action(keys_page)
def rotate_keys(form, realm: str):
    key = app_state().keys.rotate(get_realm(realm), field(form, "alg", required=False), g.console.session.actor)
    return keys_page(realm, notice=f"Key {key.kid} ({key.alg}) added: published now, signing from its activation.")


@blueprint.post("/realms/<realm>/keys/cancel-rotation")
@action(keys_page)
def cancel_rotation(form, realm: str):
    app_state().keys.cancel_rotation(get_realm(realm), g.console.session.actor)
    return keys_page(realm, notice="The pending key was dropped.")


@blueprint.post("/realms/<realm>/keys/<kid>/retire-now")
@action(keys_page)
def retire_key(form, realm: str, kid: str):
    confirmed(form, f"retire key {kid} now (the tokens it signed stop verifying)")
    done = app_state().keys.retire_now(get_realm(realm), kid, g.console.session.actor)
    activated = done.get("activated")
    return keys_page(realm, notice=f"Key {kid} retired." + (f" {activated['kid']} signs from now on."
                                                            if activated else ""))


# --- usage -------------------------------------------------------------------------------


def _report(realm: str) -> dict:
    return usage.report(get_realm(realm), query("month", 7), app_state().clock())


@blueprint.get("/realms/<realm>/usage")
@signed_in_only
def usage_page(realm: str):
    report = _report(realm)
    rows = report["by_client_and_idp"]
    widest = max([row["users"] for row in rows] + [1])
    bars = [{**row, "label": f"{row['client_id']} · {row['idp'] or '-'}" + (" (anonymous)" if row["anonymous"] else ""),
             "width": round(560 * row["users"] / widest), "y": 30 * index} for index, row in enumerate(rows)]
    return page("usage.html", realm_name=realm, report=report, bars=bars, chart_height=max(30 * len(bars), 30),
                history=_history(realm, report["month"]))


def _history(realm: str, month: str) -> list[dict]:
    """Unique users of the twelve months up to ``month``, as columns of the trend chart."""
    totals = list(usage.monthly_totals(get_realm(realm), usage.months_before(month, 12)).items())
    tallest = max([users for _, users in totals] + [1])
    return [{"month": m, "users": users, "height": round(120 * users / tallest), "x": 60 * index}
            for index, (m, users) in enumerate(totals)]


@blueprint.get("/realms/<realm>/usage.csv")
@signed_in_only
def usage_csv(realm: str):
    report = _report(realm)
    return Response(usage.report_csv(report), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="usage-{realm}-{report["month"]}.csv"',
        "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


# --- audit -------------------------------------------------------------------------------


@blueprint.get("/realms/<realm>/audit")
@signed_in_only
def audit_page(realm: str):
    filters = {name: query(name, 255) for name in AUDIT_FILTERS}
    found = audit.list_events(get_realm(realm), PAGE_SIZE, query("cursor"), **filters)
    return page("audit.html", realm_name=realm, entries=[entry.to_dict() for entry in found],
                next_cursor=found.next_cursor, filters={k: v or "" for k, v in filters.items()})


# --- webhooks ----------------------------------------------------------------------------


@blueprint.get("/realms/<realm>/webhooks")
@signed_in_only
def webhooks_page(realm: str, error: str | None = None, notice: str | None = None, secret: str | None = None):
    realm_row = get_realm(realm)
    hooks = [hook.to_dict() for hook in subscriptions.list_subscriptions(realm_row, 100)]
    deliveries = [d.to_dict(with_attempts=False) for d in subscriptions.list_deliveries(realm_row, limit=PAGE_SIZE)]
    return page("webhooks.html", realm_name=realm, hooks=hooks, deliveries=deliveries, error=error, notice=notice,
                secret=secret)


@blueprint.post("/realms/<realm>/webhooks")
@action(webhooks_page)
def create_webhook(form, realm: str):
    data = {"url": field(form, "url")}
    if form.get("events"):
        data["events"] = (form.get("events") or "").split()
    issued = subscriptions.create_subscription(get_realm(realm), data, g.console.session.actor)
    return webhooks_page(realm, notice=f"Webhook {issued.subscription.public_id} created.", secret=issued.secret)


@blueprint.post("/realms/<realm>/webhook-deliveries/<delivery>/replay")
@action(webhooks_page)
def replay_delivery(form, realm: str, delivery: str):
    again = subscriptions.replay(get_realm(realm), delivery, g.console.session.actor)
    return webhooks_page(realm, notice=f"Replay queued: {', '.join(d.public_id for d in again)}.")


# --- explain -----------------------------------------------------------------------------


@blueprint.get("/realms/<realm>/explain")
@signed_in_only
def explain_page(realm: str, error: str | None = None, answer=None, asked=None):
    return page("explain.html", realm_name=realm, error=error, answer=answer, asked=asked or {},
                token_types=TOKEN_TYPES)


@blueprint.post("/realms/<realm>/explain")
@action(explain_page, viewers_too=True)
def run_explain(form, realm: str):
    """Changes nothing (:mod:`authserver.grants.explain`); the token is not echoed back."""
    body = {"client_id": field(form, "client_id"), "subject_token": field(form, "subject_token"),
            "subject_token_type": field(form, "subject_token_type")}
    for name in ("idp", "audience", "scope"):
        if form.get(name):
            body[name] = field(form, name)
    asked = {k: v for k, v in body.items() if k != "subject_token"}
    return explain_page(realm, answer=explain_for(get_realm(realm), body), asked=asked)
