"""Who may use the admin console, and how they sign in.

Two ways in, both ending in a console session (an ``HttpOnly``, ``SameSite=Strict`` cookie on
``/console``, stored only as a keyed hash):

* **The browser login of ``ADMIN_REALM``** (OIDC Core §3.1, RFC 6749 §4.1 with PKCE, RFC 7636).
  The console is a public client of that realm (``authserver-console``, kept in step with the
  realm's browser-capable IdPs). It sends the browser to the realm's ``/authorize`` and, at
  its callback, spends the code in process — same single-use code, redirect URI and S256
  check as ``/token`` — to learn the user. The user's ``console_role`` (``admin`` or
  ``viewer``, granted with ``authserver users set-console-role`` or the admin API) decides
  what the session may do, and is read again on every request.
* **A single-use link** (``authserver admin console-link``) for a fresh install that has no
  upstream IdP yet: 256 random bits, expiring after ``CONSOLE_LINK_SECONDS``, spent once.

Every console form carries a CSRF token: an HMAC of the session cookie under the server key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import current_app
from sqlalchemy import select, update

from authserver.browser import store, upstream
from authserver.crypto import new_secret
from authserver.errors import InvalidInput
from authserver.extensions import db
from authserver.identity.users import get_user
from authserver.models import AuthorizationCode, ConsoleLink, ConsoleSession, IdentityProvider, User
from authserver.models.console import ADMIN, CONSOLE_ROLES
from authserver.models.user import ACTIVE
from authserver.registry import audit, backends, clients
from authserver.registry.realms import get_realm
from authserver.registry.urls import base_url, realm_issuer
from authserver.state import RealmContext, app_state

CONSOLE_CLIENT_ID = "authserver-console"
CONSOLE_AUDIENCE = "authserver-console"
CONSOLE_SCOPE = "console"


class SignInRefused(Exception):
    """The sign-in cannot go on; ``message`` is for the person at the browser."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SignedIn:
    """The console session behind this request."""

    session: ConsoleSession
    cookie: str

    @property
    def may_change(self) -> bool:
        return self.session.role == ADMIN

    def may_see(self, realm: str) -> bool:
        return self.session.realm is None or self.session.realm == realm


def now() -> int:
    return int(app_state().clock())


def _hash(secret: str) -> str:
    return app_state().hasher.hash(secret)


# --- single-use links --------------------------------------------------------------------


def create_link(realm: str | None, actor: str) -> tuple[str, int]:
    """A new link's token and its expiry. ``realm`` None (or ``ADMIN_REALM``): every realm."""
    if realm is not None:
        get_realm(realm)
        if realm == current_app.config["ADMIN_REALM"]:
            realm = None
    token, issued = new_secret(32), now()
    expires = issued + current_app.config["CONSOLE_LINK_SECONDS"]
    db.session.add(ConsoleLink(token_hash=_hash(token), realm=realm, created_by=actor, created_at=issued,
                               expires_at=expires))
    audit.record(get_realm(realm or current_app.config["ADMIN_REALM"]), actor, "console.link", "console",
                 realm or "*", after={"expires_at": expires})
    db.session.commit()
    return token, expires


def link_url(token: str, base: str) -> str:
    return f"{base.rstrip('/')}/console/link/{token}"


def redeem_link(token: str) -> str:
    """Spend the link once and open an ``admin`` session; its cookie."""
    row = db.session.scalars(select(ConsoleLink).where(ConsoleLink.token_hash == _hash(token[:128]))).first()
    if row is None or row.used_at is not None or row.expires_at <= now():
        raise SignInRefused("This sign-in link is unknown, expired or already used. "
                            "Print a new one with `authserver admin console-link`.")
    spent = db.session.execute(update(ConsoleLink).where(ConsoleLink.id == row.id, ConsoleLink.used_at.is_(None))
                               .values(used_at=now()).execution_options(synchronize_session=False))
    if spent.rowcount != 1:
        raise SignInRefused("This sign-in link was already used.")
    return _start(f"console:link:{row.id}", "one-time link", ADMIN, row.realm, None)


# --- sessions ------------------------------------------------------------------------------


def _start(actor: str, display_name: str, role: str, realm: str | None, user_pk: int | None) -> str:
    cookie, started = new_secret(32), now()
    db.session.add(ConsoleSession(cookie_hash=_hash(cookie), actor=actor, display_name=display_name, role=role,
                                  realm=realm, user_pk=user_pk, created_at=started,
                                  expires_at=started + current_app.config["CONSOLE_SESSION_SECONDS"]))
    db.session.commit()
    return cookie


def current(cookie: str | None) -> SignedIn | None:
    """The live session of this cookie; a user's role is read again (revoked: signed out)."""
    if not cookie or len(cookie) > 128:
        return None
    session = db.session.scalars(select(ConsoleSession).where(ConsoleSession.cookie_hash == _hash(cookie))).first()
    if session is None or session.ended_at is not None or session.expires_at <= now():
        return None
    if session.user_pk is not None:
        user = db.session.get(User, session.user_pk)
        if user is None or user.state != ACTIVE or user.console_role not in CONSOLE_ROLES:
            return None
        session.role = user.console_role
    return SignedIn(session, cookie)


def end(signed_in: SignedIn) -> None:
    signed_in.session.ended_at = now()
    db.session.commit()


def csrf_token(signed_in: SignedIn) -> str:
    key = app_state().hasher.hash("csrf|console")
    return hmac.new(key.encode(), signed_in.cookie.encode(), hashlib.sha256).hexdigest()


def csrf_ok(signed_in: SignedIn, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(csrf_token(signed_in), presented)


# --- roles ---------------------------------------------------------------------------------


def set_console_role(realm_name: str, user_key: str, role: str | None, actor: str) -> User:
    """Grant ``admin`` or ``viewer`` (or None: no console access) to a user of ``ADMIN_REALM``."""
    admin_realm = current_app.config["ADMIN_REALM"]
    if realm_name != admin_realm:
        raise InvalidInput(f"console roles are held by users of ADMIN_REALM ({admin_realm!r}), "
                           f"not of {realm_name!r}")
    if role is not None and role not in CONSOLE_ROLES:
        raise InvalidInput(f"role: must be one of {', '.join(CONSOLE_ROLES)} (or none)")
    realm = get_realm(realm_name)
    user = get_user(realm, user_key)
    before = user.console_role
    user.console_role = role
    audit.record(realm, actor, "user.console_role", "user", user.uid, before={"console_role": before},
                 after={"console_role": role})
    db.session.commit()
    return user


def role_view(user: User) -> dict:
    return {"_id": user.uid, "user_id": user.user_id, "console_role": user.console_role}


# --- the browser login of ADMIN_REALM --------------------------------------------------------


def callback_url() -> str:
    return f"{base_url()}/console/callback"


def _derived(login_cookie: str, purpose: str) -> str:
    key = app_state().hasher.hash(f"console-login|{purpose}")
    digest = hmac.new(key.encode(), login_cookie.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _challenge(login_cookie: str) -> str:
    """RFC 7636 §4.2: the S256 challenge of this login's verifier."""
    return create_s256_code_challenge(_derived(login_cookie, "pkce"))


def login_url(login_cookie: str) -> str:
    """Where the browser goes to sign in: ``ADMIN_REALM``'s authorization endpoint. ``state``
    and the PKCE verifier derive from the login cookie, so nothing is stored before it."""
    realm_name = current_app.config["ADMIN_REALM"]
    _ensure_console_client(realm_name)
    query = {"response_type": "code", "client_id": CONSOLE_CLIENT_ID, "redirect_uri": callback_url(),
             "scope": f"openid {CONSOLE_SCOPE}", "state": _derived(login_cookie, "state"),
             "nonce": _derived(login_cookie, "nonce"), "code_challenge": _challenge(login_cookie),
             "code_challenge_method": "S256"}
    return f"{realm_issuer(realm_name)}/authorize?{urlencode(query)}"


def finish_login(login_cookie: str | None, args) -> str:
    """The callback: our ``state``, then the code spent once with our verifier; a console
    session for a user holding a console role."""
    if not login_cookie or not hmac.compare_digest(_derived(login_cookie, "state"), args.get("state") or ""):
        raise SignInRefused("This sign-in was started in another browser or has expired. Start again.")
    if args.get("error"):
        raise SignInRefused(f"The sign-in was refused: {str(args.get('error_description') or args['error'])[:200]}")
    realm = get_realm(current_app.config["ADMIN_REALM"])
    ctx = RealmContext(realm=realm, issuer=realm_issuer(realm.name), state=app_state())
    code = store.find_code(ctx, str(args.get("code") or "")[:256])
    if (code is None or code.client_id != CONSOLE_CLIENT_ID or code.redirect_uri != callback_url()
            or code.expires_at <= ctx.now() or not hmac.compare_digest(code.code_challenge, _challenge(login_cookie))
            or not store.spend(ctx, AuthorizationCode, code)):
        raise SignInRefused("The sign-in could not be completed (the code is invalid, expired or used). Start again.")
    user = db.session.get(User, code.user_pk)
    if user is None or user.state != ACTIVE:
        raise SignInRefused("This user is not active.")
    if user.console_role not in CONSOLE_ROLES:
        db.session.commit()
        raise SignInRefused(f"{user.user_id or user.uid} holds no console role. An admin grants one with "
                            f"`authserver users set-console-role --realm {realm.name} {user.uid} viewer`.")
    return _start(f"console:user:{user.uid}", user.user_id or user.name or user.uid, user.console_role, None, user.id)


def _ensure_console_client(realm_name: str) -> None:
    """The console's own client (and the audience it names) in ``ADMIN_REALM``, allowed every
    IdP of the realm that can run a browser login."""
    realm = get_realm(realm_name)
    idps = [idp.name for idp in db.session.scalars(select(IdentityProvider).where(
        IdentityProvider.realm_id == realm.id, IdentityProvider.disabled.is_(False))) if
        upstream.supports_browser_login(idp)]
    if backends.find_backend(realm, CONSOLE_AUDIENCE) is None:
        backends.create_backend(realm, {"audience": CONSOLE_AUDIENCE, "scopes": [CONSOLE_SCOPE],
                                        "default_scopes": [CONSOLE_SCOPE]}, "system:console")
    wanted = {"redirect_uris": [callback_url()], "idps": idps, "audiences": [CONSOLE_AUDIENCE],
              "scopes": [CONSOLE_SCOPE]}
    client = clients.find_client(realm, CONSOLE_CLIENT_ID)
    if client is None:
        clients.create_client(realm, {"client_id": CONSOLE_CLIENT_ID, "name": "authserver admin console",
                                      "auth_method": "none", "grant_types": ["authorization_code"], **wanted},
                              "system:console")
    elif any(getattr(client, name) != value for name, value in wanted.items()):
        clients.update_client(realm, CONSOLE_CLIENT_ID, wanted, "system:console")

