"""The identity decision: which chat user a verified login is, under which rule.

The one module that decides trust, linking, provisioning, upgrade and merge, for the token
exchange (RFC 8693) and the browser login alike. It works in two steps: :func:`plan_login`
only reads and names the rule that decides (explain shows it); :func:`apply_plan` writes the
plan into the current transaction (the caller commits, after the token is signed).

The rules, in the order they are applied (each refusal is ``invalid_grant`` and names it):

``link``               an existing identity link ``(realm, idp, subject)`` decides the user.
``user_id_claim``      otherwise the connection's rule derives ``user_id`` from the claims.
``email_not_vouched``  a ``user_id`` derived from an email needs a vouched email: a trusted
                       connection whose claims say ``email_verified: true``.
``link_verified_email`` (policy) a trusted, vouched email links to the verified user holding it.
``existing_only``      (policy) the ``user_id`` must already belong to a user.
``user_id_taken``      (policy ``create``) the ``user_id`` belongs to another user.
``identity_collision`` a ``user_id`` never equals a client id or another user's ``_id``, so
                       two principals never share a token ``sub``.
``trust``              a login through an unverified connection never reaches, links or
                       upgrades a verified user (one identified by a verified connection or
                       by the app's backend); ``verified`` in a token is never raised by it.
``disabled``/``merged`` the user must be active.
``upgrade``            with a device session, the anonymous user is assigned the ``user_id``
                       (nobody holds it) or merged into the user who does.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from authserver.errors import ServiceError
from authserver.events import payloads
from authserver.events.outbox import publish
from authserver.extensions import db
from authserver.models import DeviceSession, IdentityLink, IdentityProvider, User
from authserver.models.user import ACTIVE, DISABLED, MERGED
from authserver.plugin_api import Identity
from authserver.state import RealmContext
from authserver.tokens.reads import LinkRow, UserRow

PROFILE_FIELDS = ("given_name", "family_name", "name", "email", "picture")
TOUCH_INTERVAL = 300  # seconds between last-seen writes for one user
VOLATILE_CLAIMS = frozenset({"iat", "exp", "nbf", "jti", "nonce", "at_hash", "c_hash", "auth_time",
                             "sid", "s_hash", "rt_hash"})
TEMPLATE_FIELD = re.compile(r"\{([A-Za-z0-9_.:-]+)\}")
MAX_USER_ID = 255


class ProvisioningRefused(ServiceError):
    """The subject is genuine but may not become (or reach) a chat user here (``invalid_grant``)."""

    error = "invalid_grant"

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


@dataclass(frozen=True)
class Login:
    """A verified upstream identity, through one connection, maybe upgrading a device session."""

    idp: IdentityProvider
    identity: Identity
    upgrade: DeviceSession | None = None


@dataclass
class Plan:
    """What :func:`apply_plan` will do; read-only until then."""

    login: Login
    outcome: str  # existing | created | linked | assigned | merged
    rule: str
    link: IdentityLink | LinkRow | None = None
    user: User | UserRow | None = None  # the user the login reaches (None: a new one)
    user_id: str | None = None  # for a first login
    anonymous: User | None = None  # the device session's user, being upgraded
    steps: list[str] = field(default_factory=list)  # what was checked, in order (explain)


@dataclass(frozen=True)
class Decision:
    user: User | UserRow  # a row as read when the login wrote nothing
    outcome: str
    rule: str
    verified: bool  # the token's ``verified``: never more than this login's trust
    idp: str | None = None
    sid: str | None = None
    upgraded_from: str | None = None  # the anonymous user's _id, on an upgrade
    identity: Identity | None = None


def new_uid() -> str:
    return secrets.token_hex(12)


# --- planning (reads only) -------------------------------------------------------------


def plan_login(ctx: RealmContext, login: Login) -> Plan:
    """The rule that decides this login; raises :class:`ProvisioningRefused` naming it."""
    anonymous = _anonymous_user(login.upgrade)
    link, user = _find_link_and_user(ctx, login.idp, login.identity.subject)
    if link is not None:
        plan = Plan(login, "existing", "link", link=link, user=user, anonymous=anonymous,
                    steps=[f"link: ({login.idp.name}, subject) is linked to user {user.uid}"])
    else:
        plan = _plan_first_login(ctx, login, anonymous)
    _check_trust(login.idp, plan)
    _check_usable(plan)
    if anonymous is not None:
        _plan_upgrade(plan, anonymous)
    return plan


def _plan_first_login(ctx: RealmContext, login: Login, anonymous: User | None) -> Plan:
    idp, identity = login.idp, login.identity
    user_id = derive_user_id(idp, identity)
    steps = [f"user_id_claim: {idp.user_id_claim!r} gives user_id {user_id!r}"]
    if _derives_from_email(idp) and not email_vouched(idp, identity):
        raise ProvisioningRefused("email_not_vouched", "the user_id derives from an email the identity "
                                  "provider does not vouch for (trusted and email_verified: true)")
    holder, collides = ctx.state.reads.user_id_holder(ctx.realm.id, user_id)
    if idp.provisioning == "link_verified_email":
        by_email = _user_with_vouched_email(ctx, idp, identity)
        if by_email is not None:
            steps.append(f"link_verified_email: the vouched email belongs to user {by_email.uid}")
            return Plan(login, "linked", "link_verified_email", user=by_email, user_id=user_id,
                        anonymous=anonymous, steps=steps)
    if idp.provisioning == "existing_only":
        if holder is None:
            raise ProvisioningRefused("existing_only", "no existing user matches this subject")
        steps.append(f"existing_only: user_id {user_id!r} belongs to user {holder.uid}")
        return Plan(login, "linked", "existing_only", user=holder, user_id=user_id, anonymous=anonymous,
                    steps=steps)
    if holder is not None:
        raise ProvisioningRefused("user_id_taken", "the user_id for this subject belongs to another user")
    if collides:  # a user_id is a token sub: never a client's id, nor another user's _id
        raise ProvisioningRefused("identity_collision", "the user_id would collide with another "
                                  "principal's identifier in this realm")
    steps.append(f"provisioning: {idp.provisioning}: a new user with user_id {user_id!r}")
    return Plan(login, "created", f"provisioning:{idp.provisioning}", user_id=user_id, anonymous=anonymous,
                steps=steps)


def _plan_upgrade(plan: Plan, anonymous: User) -> None:
    if plan.user is None:
        plan.outcome, plan.rule = "assigned", "upgrade"
        plan.steps.append(f"upgrade: the anonymous user {anonymous.uid} is assigned the user_id")
    elif plan.user.id != anonymous.id:
        plan.outcome, plan.rule = "merged", "upgrade"
        plan.steps.append(f"upgrade: the anonymous user {anonymous.uid} is merged into {plan.user.uid}")


def _check_trust(idp: IdentityProvider, plan: Plan) -> None:
    if plan.user is not None and plan.user.verified and not idp.verified:
        raise ProvisioningRefused("trust", "a login through an unverified identity provider cannot reach "
                                  "a verified user")
    plan.steps.append(f"trust: the connection is {idp.trust}")


def _check_usable(plan: Plan) -> None:
    if plan.user is not None and plan.user.state == DISABLED:
        raise ProvisioningRefused("disabled", "the user is disabled")
    if plan.user is not None and plan.user.state == MERGED:
        raise ProvisioningRefused("merged", "the user was merged into another user")


# --- applying (writes into the current transaction) -----------------------------------


CONCURRENT_ATTEMPTS = 3


def decide_login(ctx: RealmContext, login: Login) -> Decision:
    """Plan and apply; a concurrent first login of the same subject is re-read, not doubled
    (the unique user_id and link decide; the loser plans again and finds the winner's rows)."""
    for attempt in range(CONCURRENT_ATTEMPTS):
        last = attempt == CONCURRENT_ATTEMPTS - 1
        try:
            return apply_plan(ctx, plan_login(ctx, login))
        except IntegrityError:
            db.session.rollback()
            if last:
                raise ProvisioningRefused("user_id_taken", "the user_id for this subject belongs to "
                                          "another user") from None
        except ProvisioningRefused as refused:
            if last or refused.rule != "user_id_taken":
                raise
            # A concurrent first login may have committed between our two reads (no link yet,
            # then its user): read again, the link is there now.
            db.session.rollback()
            time.sleep(0.01 * (attempt + 1))
    raise AssertionError("unreachable")


def apply_plan(ctx: RealmContext, plan: Plan) -> Decision:
    idp, identity, now = plan.login.idp, plan.login.identity, ctx.now()
    user, upgraded_from = plan.user, None
    if plan.outcome == "assigned":
        user = plan.anonymous
        user.user_id, user.verified = plan.user_id, idp.verified
    elif plan.outcome == "created":
        user = User(realm_id=ctx.realm.id, uid=new_uid(), user_id=plan.user_id, verified=idp.verified,
                    workspaces=[], state=ACTIVE, created_at=now, last_seen_at=now)
        apply_profile(user, idp, identity)  # in its INSERT, not in an UPDATE after it
        user.id = _insert(User, user)
    elif plan.link is not None and isinstance(user, UserRow):  # a returning user, as read: our own rows
        changed, touched = _refresh(ctx, user, plan.link, idp, identity)
        if plan.anonymous is None and not changed and not touched:
            return _decision(plan, user)  # the login tells nothing new: nothing to write
        user = _attached(User, user)
    else:
        user = _attached(User, user)
    link = _attached(IdentityLink, plan.link) or _new_link(ctx, idp, identity, user, now)
    if plan.anonymous is not None:
        upgraded_from = plan.anonymous.uid
        if plan.outcome == "merged":
            merge_anonymous(plan.anonymous, user)
        end_session(ctx, plan.login.upgrade)
    changed, _ = _refresh(ctx, user, link, idp, identity)
    db.session.flush()
    _publish(ctx, plan, user, changed)
    return _decision(plan, user, upgraded_from)


def _decision(plan: Plan, user: User | UserRow, upgraded_from: str | None = None) -> Decision:
    idp = plan.login.idp
    return Decision(user=user, outcome=plan.outcome, rule=plan.rule, verified=user.verified and idp.verified,
                    idp=idp.name, upgraded_from=upgraded_from, identity=plan.login.identity)


def _attached(model, row):
    """The ORM object of a row as read, in the request's transaction (to write it)."""
    if row is None or isinstance(row, model):
        return row
    return db.session.get(model, row.id)


def _new_link(ctx: RealmContext, idp: IdentityProvider, identity: Identity, user: User, now: int) -> IdentityLink:
    link = IdentityLink(realm_id=ctx.realm.id, idp_id=idp.id, subject=identity.subject, user_pk=user.id,
                        last_claims=stable_claims(identity.claims), first_login_at=now, last_login_at=now)
    link.id = _insert(IdentityLink, link)  # the unique link decides concurrent first logins, here
    return link


def _insert(model, row) -> int:
    """INSERT a new row in the request's transaction, as one Core statement (no unit-of-work
    flush); returns its id. The object stays out of the session: it is the row as written,
    for the token and the events, and nothing writes it again in this request."""
    values = {column.key: getattr(row, column.key) for column in model.__table__.columns
              if getattr(row, column.key) is not None}
    result = db.session.connection().execute(_insert_statement(model), values)
    return result.inserted_primary_key[0]


@cache
def _insert_statement(model):
    """One ``INSERT`` statement per table, built once (SQLAlchemy then reuses its compiled form)."""
    return insert(model.__table__)


def merge_anonymous(anonymous: User, target: User) -> None:
    """The anonymous user points at ``target``; its non-verified data moves when target has
    none (explain runs it on copies)."""
    if anonymous.identified:
        raise ProvisioningRefused("upgrade", "an identified user is never reassigned")
    anonymous.state, anonymous.merged_into = MERGED, target.uid
    if anonymous.unverified and not target.unverified:
        target.unverified = anonymous.unverified


def end_session(ctx: RealmContext, session: DeviceSession) -> None:
    """Mark a device session ended in the current transaction (the caller commits)."""
    session.ended_at = ctx.now()


def _publish(ctx: RealmContext, plan: Plan, user: User, changed: list[str]) -> None:
    """The events of this decision, in its transaction (none for a returning login that
    changed nothing: no event per token exchange)."""
    actor = f"idp:{plan.login.idp.name}"
    if plan.outcome == "created":
        publish(ctx.realm, "user.created", payloads.user(user), actor)
    elif plan.outcome == "assigned":
        publish(ctx.realm, "user.identified", payloads.user_identified(user), actor)
    elif changed:
        publish(ctx.realm, "user.updated", payloads.user_updated(user, changed), actor)
    if plan.outcome == "merged":
        publish(ctx.realm, "user.merged", payloads.user_merged(user, plan.anonymous, "login", [plan.login.upgrade]),
                actor)
    if plan.login.upgrade is not None:
        reason = "merged" if plan.outcome == "merged" else "upgraded"
        publish(ctx.realm, "session.ended", payloads.session(plan.login.upgrade, plan.anonymous, reason), actor)


def _refresh(ctx: RealmContext, user: User | UserRow, link: IdentityLink | LinkRow, idp: IdentityProvider,
             identity: Identity) -> tuple[list[str], bool]:
    """Apply what a login tells us; touch rows only when something changed or time passed.
    Returns the user fields the login changed, and whether the link was touched."""
    now = ctx.now()
    changed = apply_profile(user, idp, identity)
    claims = stable_claims(identity.claims)
    touched = False
    if link.last_claims != claims:
        link.last_claims, touched = claims, True
    if now - (link.last_login_at or 0) >= TOUCH_INTERVAL:
        link.last_login_at = user.last_seen_at = now
        touched = True
    return changed, touched


def stable_claims(claims) -> dict:
    """The claims worth keeping on the link: without the per-token ones (``iat``, ``jti``…),
    so a login that tells us nothing new writes nothing."""
    return {k: v for k, v in claims.items() if k not in VOLATILE_CLAIMS}


def apply_profile(user: User, idp: IdentityProvider, identity: Identity) -> list[str]:
    """Write what ``identity`` says about the person onto ``user`` (verified fields from a
    verified IdP, else into ``unverified``; the workspace); returns the fields it changed.
    Explain runs it on copies to preview a login."""
    before = {name: getattr(user, name) for name in (*PROFILE_FIELDS, "verified", "custom", "unverified",
                                                      "workspaces")}
    profile = _profile(idp, identity)
    if idp.verified:
        for name, value in profile.items():
            if getattr(user, name) != value:
                setattr(user, name, value)
        if not user.verified:
            user.verified = True
        if identity.custom is not None and user.custom != dict(identity.custom):
            user.custom = dict(identity.custom)
    elif profile and {**(user.unverified or {}), **profile} != (user.unverified or {}):
        user.unverified = {**(user.unverified or {}), **profile}
    if idp.verified and identity.workspace and identity.workspace not in (user.workspaces or []):
        user.workspaces = [*(user.workspaces or []), identity.workspace]
    return [name for name, value in before.items() if getattr(user, name) != value]


def _profile(idp: IdentityProvider, identity: Identity) -> dict[str, str]:
    """The profile fields a login tells, through the connection's ``claim_mapping``. An email
    from a trusted connection counts only when vouched; otherwise it stays non-verified data."""
    claims = {**identity.claims, **{name: identity.claims[claim]
                                    for name, claim in (idp.claim_mapping or {}).items()
                                    if claim in identity.claims}}
    profile = {f: claims[f] for f in PROFILE_FIELDS if isinstance(claims.get(f), str)}
    if idp.verified and "email" in profile and not email_vouched(idp, identity):
        profile.pop("email")
    return profile


# --- derivations ------------------------------------------------------------------------


def derive_user_id(idp: IdentityProvider, identity: Identity) -> str:
    """``user_id`` from the connection's rule: a claim name, or a template like ``{idp}:{sub}``."""
    rule = idp.user_id_claim
    values: dict[str, Any] = {**identity.claims, "sub": identity.subject, "idp": idp.name}
    if "{" not in rule:
        value = values.get(rule)
    else:
        missing = [f for f in TEMPLATE_FIELD.findall(rule) if not _usable(values.get(f))]
        value = None if missing else TEMPLATE_FIELD.sub(lambda m: str(values[m.group(1)]), rule)
    if not _usable(value) or len(str(value)) > MAX_USER_ID:
        raise ProvisioningRefused("user_id_claim", "the subject token lacks the claim that names the user")
    return str(value)


def email_vouched(idp: IdentityProvider, identity: Identity) -> bool:
    """An email is a linking key only from a trusted connection that says it is verified."""
    return idp.verified and identity.claims.get("email_verified") is True \
        and isinstance(identity.claims.get("email"), str)


def _derives_from_email(idp: IdentityProvider) -> bool:
    rule = idp.user_id_claim
    return rule == "email" or "email" in TEMPLATE_FIELD.findall(rule)


def _usable(value: Any) -> bool:
    return isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) != ""


def _anonymous_user(session: DeviceSession | None) -> User | None:
    return db.session.get(User, session.user_pk) if session is not None else None


def _find_link_and_user(ctx: RealmContext, idp: IdentityProvider, subject: str) -> tuple:
    """The link and its user, as read, in one round trip; or (None, None)."""
    found = ctx.state.reads.link_and_user(ctx.realm.id, idp.id, subject)
    return found if found is not None else (None, None)


def _user_with_vouched_email(ctx: RealmContext, idp: IdentityProvider, identity: Identity) -> User | None:
    if not email_vouched(idp, identity):
        return None
    return db.session.scalar(select(User).where(
        User.realm_id == ctx.realm.id, User.email == identity.claims["email"], User.verified.is_(True),
        User.state == ACTIVE))
