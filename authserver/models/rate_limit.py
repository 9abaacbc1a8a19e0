"""Fixed-window counters of the rate limits (:mod:`authserver.edge.limits`) when no Redis is
configured: one row per (limit, key, window), shared by every process on the database."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from authserver.extensions import db


class RateLimitCounter(db.Model):
    __tablename__ = "rate_limits"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_end: Mapped[int] = mapped_column(BigInteger, index=True)
    count: Mapped[int] = mapped_column(Integer)
