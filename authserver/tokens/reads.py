"""The token path's hot reads, built once: SQLAlchemy Core statements compiled once per app
for its database's dialect, each run as one round trip on a pooled DBAPI connection.

A read runs outside the request's transaction (PostgreSQL: in autocommit, so no ``BEGIN``
and ``COMMIT`` around it; SQLite: a plain read under WAL), so a returning user costs one
round trip and leaves the session untouched. Reads return plain rows, never ORM objects:
a caller that must write loads the ORM object then, in the request's transaction.
Database errors are raised as SQLAlchemy's (``DBAPIError``), as every other query raises
them, so a database fault is still a 503; a connection found dead is dropped from the pool.

* :meth:`Reads.link_and_user`: an identity link and its user (the identity decision);
* :meth:`Reads.user_by_uid`: a user by ``_id`` (re-exchange of one of our tokens);
* :meth:`Reads.user_id_holder`: who holds a ``user_id``, and whether it collides with another
  principal's identifier (a first login);
* :meth:`Reads.token_state`: everything revocation depends on, in one row: the ``jti``,
  the client's cut-off and state, the user's cut-off and state (introspection).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import and_, bindparam, exists, literal_column, select
from sqlalchemy.exc import DBAPIError

from authserver.extensions import db
from authserver.models import Client, IdentityLink, RevokedToken, User


@dataclass(slots=True)
class UserRow:
    """A user as read (the columns the token path reads); the names are ``User``'s."""

    id: int
    uid: str
    user_id: str | None
    given_name: str | None
    family_name: str | None
    name: str | None
    email: str | None
    picture: str | None
    custom: dict | None
    unverified: dict | None
    verified: bool
    workspaces: list
    state: str
    tokens_not_before: int | None
    last_seen_at: int | None

    @property
    def identified(self) -> bool:
        return self.user_id is not None


@dataclass(slots=True)
class LinkRow:
    """An identity link as read."""

    id: int
    user_pk: int
    last_claims: dict | None
    last_login_at: int


@dataclass(frozen=True, slots=True)
class TokenState:
    """What decides whether one of our tokens is revoked (:mod:`authserver.tokens.revocation`)."""

    jti_revoked: bool
    client_found: bool
    client_disabled: bool
    client_not_before: int | None
    user_found: bool
    user_state: str | None
    user_not_before: int | None


_USER_COLUMNS = [getattr(User.__table__.c, f.name) for f in fields(UserRow)]
_LINK_COLUMNS = [getattr(IdentityLink.__table__.c, f.name) for f in fields(LinkRow)]


def _link_and_user():
    link, user = IdentityLink.__table__, User.__table__
    return select(*_LINK_COLUMNS, *_USER_COLUMNS).join_from(link, user, user.c.id == link.c.user_pk).where(
        link.c.realm_id == bindparam("realm"), link.c.idp_id == bindparam("idp"),
        link.c.subject == bindparam("subject"))


def _user_by_uid():
    user = User.__table__
    return select(*_USER_COLUMNS).where(user.c.realm_id == bindparam("realm"), user.c.uid == bindparam("uid"))


def _user_id_holder():
    """The user holding a ``user_id``, and whether the ``user_id`` collides with a client id
    or another user's ``_id``: one row whatever exists."""
    client, user = Client.__table__, User.__table__
    holder = user.alias("holder")
    one = select(literal_column("1").label("one")).subquery("one")
    joined = one.outerjoin(holder, and_(holder.c.realm_id == bindparam("realm"),
                                        holder.c.user_id == bindparam("user_id")))
    is_client = exists().where(client.c.realm_id == bindparam("realm"), client.c.client_id == bindparam("user_id"))
    is_uid = exists().where(user.c.realm_id == bindparam("realm"), user.c.uid == bindparam("user_id"))
    columns = [getattr(holder.c, f.name) for f in fields(UserRow)]
    return select(*columns, (is_client | is_uid).label("collides")).select_from(joined)


def _token_state():
    """One row whatever exists: each outer join finds its row or NULLs."""
    revoked, client, user = RevokedToken.__table__, Client.__table__, User.__table__
    one = select(literal_column("1").label("one")).subquery("one")
    joined = one.outerjoin(revoked, revoked.c.jti_hash == bindparam("jti")) \
        .outerjoin(client, and_(client.c.realm_id == bindparam("realm"), client.c.client_id == bindparam("client"))) \
        .outerjoin(user, and_(user.c.realm_id == bindparam("realm"), user.c.uid == bindparam("uid")))
    return select(revoked.c.jti_hash, client.c.id, client.c.disabled, client.c.tokens_not_before, user.c.id,
                  user.c.state, user.c.tokens_not_before).select_from(joined)


class _Compiled:
    """One statement compiled for one dialect: its SQL and how to order its parameters."""

    def __init__(self, statement, dialect):
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self._names = list(compiled.positiontup) if compiled.positional else None

    def parameters(self, values: Mapping[str, Any]):
        return tuple(values[name] for name in self._names) if self._names is not None else dict(values)


class Reads:
    """The compiled statements of one app, compiled at first use for its engine's dialect."""

    def __init__(self):
        self._compiled: dict[str, _Compiled] | None = None

    def link_and_user(self, realm_id: int, idp_id: int, subject: str) -> tuple[LinkRow, UserRow] | None:
        row = self._one("link_and_user", {"realm": realm_id, "idp": idp_id, "subject": subject})
        if row is None:
            return None
        split = len(_LINK_COLUMNS)
        return _build(LinkRow, row[:split]), _build(UserRow, row[split:])

    def user_by_uid(self, realm_id: int, uid: str) -> UserRow | None:
        row = self._one("user_by_uid", {"realm": realm_id, "uid": uid})
        return _build(UserRow, row) if row is not None else None

    def user_id_holder(self, realm_id: int, user_id: str) -> tuple[UserRow | None, bool]:
        """(the user holding ``user_id`` or None, whether ``user_id`` is a client id or an ``_id``)."""
        row = self._one("user_id_holder", {"realm": realm_id, "user_id": user_id})
        holder = _build(UserRow, row[:-1]) if row[0] is not None else None
        return holder, bool(row[-1])

    def token_state(self, realm_id: int, jti_hash: str, client_id: str, uid: str | None) -> TokenState:
        row = self._one("token_state", {"jti": jti_hash, "realm": realm_id, "client": client_id, "uid": uid})
        revoked, client_pk, disabled, client_nbf, user_pk, state, user_nbf = row
        return TokenState(jti_revoked=revoked is not None, client_found=client_pk is not None,
                          client_disabled=bool(disabled), client_not_before=client_nbf,
                          user_found=user_pk is not None, user_state=state, user_not_before=user_nbf)

    def _statements(self, dialect) -> dict[str, _Compiled]:
        if self._compiled is None:
            self._compiled = {"link_and_user": _Compiled(_link_and_user(), dialect),
                              "user_by_uid": _Compiled(_user_by_uid(), dialect),
                              "user_id_holder": _Compiled(_user_id_holder(), dialect),
                              "token_state": _Compiled(_token_state(), dialect)}
        return self._compiled

    def _one(self, name: str, values: Mapping[str, Any]) -> tuple | None:
        engine = db.engine
        dialect = engine.dialect
        statement = self._statements(dialect)[name]
        parameters = statement.parameters(values)
        autocommit = dialect.name == "postgresql"
        connection = engine.raw_connection()
        cursor = None
        try:
            if autocommit:
                connection.driver_connection.autocommit = True
            cursor = connection.cursor()
            cursor.execute(statement.sql, parameters)
            return cursor.fetchone()
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, connection.dbapi_connection, cursor):
                connection.invalidate(exc)
            raise DBAPIError.instance(statement.sql, parameters, exc, dialect.loaded_dbapi.Error) from exc
        finally:
            if cursor is not None:
                cursor.close()
            if autocommit and connection.dbapi_connection is not None:
                connection.driver_connection.autocommit = False
            connection.close()


def _build(cls, values) -> Any:
    """A row class from a result tuple: JSON text parsed (SQLite; psycopg parses it), booleans
    as booleans (SQLite stores 0/1)."""
    return cls(*[_CONVERTERS[name](value) if name in _CONVERTERS and value is not None else value
                 for name, value in zip(_NAMES[cls], values, strict=True)])


def _json(value):
    return json.loads(value) if isinstance(value, (str, bytes)) else value


_NAMES = {cls: tuple(f.name for f in fields(cls)) for cls in (UserRow, LinkRow)}
_CONVERTERS = {**dict.fromkeys(("custom", "unverified", "workspaces", "last_claims"), _json), "verified": bool}
