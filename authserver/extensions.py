"""Flask extensions, created unbound and ``init_app``-ed by :func:`authserver.create_app`."""

from __future__ import annotations

import importlib

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names, so Alembic migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


#: The backends whose ``INSERT … ON CONFLICT`` (an upsert) the server uses.
UPSERT_DIALECTS = ("postgresql", "sqlite")


def upsert_insert(dialect: str):
    """The ``insert`` construct of ``dialect`` (it has ``on_conflict_do_update`` / ``_nothing``),
    its module imported on first use: a SQLite process never loads the PostgreSQL dialect
    (with its asyncpg and pg8000 modules, and asyncio), a few MB per worker."""
    if dialect not in UPSERT_DIALECTS:
        raise RuntimeError(f"no upsert for the {dialect!r} backend; supported: {', '.join(UPSERT_DIALECTS)}")
    return importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
