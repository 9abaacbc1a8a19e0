"""Driving the admin console (``/console``) with Flask's test client: sign in with a one-time
link or as a user of ``ADMIN_REALM``, read a page's CSRF token, post a form, seed users."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

from sqlalchemy import select

from authserver.console import access
from authserver.console.web import COOKIE_PATH, SESSION_COOKIE
from authserver.extensions import db
from authserver.models import ConsoleLink, User
from authserver.registry.realms import get_realm
from tests.cli_helpers import cli

CONSOLE = "/console"
FORM = "application/x-www-form-urlencoded"
#: Every tab of a realm, as the console's navigation names them.
REALM_TABS = ("clients", "backends", "idps", "users", "keys", "usage", "audit", "webhooks", "explain")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def realm_page(path: str, realm: str = "default") -> str:
    return f"{CONSOLE}/realms/{realm}/{path}"


def new_link(runner, *options: str) -> dict:
    """``authserver admin console-link --json``: its url and expires_at."""
    return cli(runner, "admin", "console-link", *options)


def link_path(link: dict) -> str:
    return urlsplit(link["url"]).path


def csrf_of(client, path: str = CONSOLE) -> str:
    """The CSRF token in the forms of the page at ``path`` (the page must render)."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    found = set(_CSRF.findall(response.text))
    assert len(found) == 1, found
    return found.pop()


def sign_in(client, runner, *options: str, page: str = CONSOLE) -> str:
    """Sign ``client`` in with a fresh one-time link (``options``: e.g. ``--realm other``);
    the CSRF token of ``page``."""
    response = client.post(link_path(new_link(runner, *options)))
    assert response.status_code == 303 and response.headers["Location"] == CONSOLE, response.text
    return csrf_of(client, page)


def session_cookie(client) -> str | None:
    cookie = client.get_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return cookie.value if cookie else None


def use_cookie(client, cookie: str) -> None:
    client.set_cookie(SESSION_COOKIE, cookie, path=COOKIE_PATH)


def sign_in_as_user(app, client, uid: str, page: str = CONSOLE) -> str:
    """A console session of a user of ``ADMIN_REALM`` (what the browser login's callback
    opens); the CSRF token of ``page``."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.uid == uid))
        cookie = access._start(f"console:user:{user.uid}", user.user_id or user.uid, user.console_role, None,
                               user.id)
    use_cookie(client, cookie)
    return csrf_of(client, page)


def link_actor(app) -> str:
    """The audit actor of the (only) link spent so far."""
    with app.app_context():
        spent = db.session.scalars(select(ConsoleLink).where(ConsoleLink.used_at.is_not(None))).all()
        assert len(spent) == 1, spent
        return f"console:link:{spent[0].id}"


def post(client, path: str, csrf: str | None, **fields: str):
    """A console form; ``fields`` with characters not allowed in names go through ``form``."""
    body = dict(fields.pop("form", {}), **fields)
    if csrf is not None:
        body["csrf"] = csrf
    return client.post(path, data=body)


def post_raw(client, path: str, body: bytes):
    return client.post(path, data=body, content_type=FORM)


def seed_users(app, count: int, realm: str = "default", **extra) -> list[str]:
    """``count`` users ``user-00``…, created one second apart; their ``_id``s, oldest first."""
    with app.app_context():
        realm_id = get_realm(realm).id
        rows = [User(realm_id=realm_id, uid=f"u{index:02d}{'x' * 21}", user_id=f"user-{index:02d}",
                     email=f"User{index:02d}@Example.test", verified=True, workspaces=[], created_at=1000 + index,
                     **extra) for index in range(count)]
        db.session.add_all(rows)
        db.session.commit()
        return [row.uid for row in rows]


def next_page_href(page_html: str) -> str | None:
    found = re.search(r'<a rel="next" id="next-page" href="([^"]+)"', page_html)
    return html.unescape(found.group(1)) if found else None


def user_rows(page_html: str) -> list[str]:
    """The ``_id``s listed in a users page, in order."""
    return re.findall(r'<th scope="row"><a href="/console/realms/[^/]+/users/([^"]+)">', page_html)
