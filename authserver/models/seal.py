"""The database seal: which SECRET_KEY seals this database, named by its fingerprint (never
the key), and the database's hashing key, sealed under that key. One row, id 1."""

from __future__ import annotations

from sqlalchemy import BigInteger, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db

SEAL_ID = 1


class DatabaseSeal(db.Model):
    __tablename__ = "database_seal"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_fingerprint: Mapped[str] = mapped_column(String(64))
    hashing_key_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    sealed_at: Mapped[int] = mapped_column(BigInteger)
