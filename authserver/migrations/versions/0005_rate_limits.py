"""Rate-limit counters shared by every process (used when no Redis is configured).

Revision ID: 0005_rate_limits
Revises: 0004_sessions_revocation
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_rate_limits"
down_revision = "0004_sessions_revocation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rate_limits",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("window_end", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_rate_limits"),
    )
    op.create_index("ix_rate_limits_window_end", "rate_limits", ["window_end"])


def downgrade():
    op.drop_index("ix_rate_limits_window_end", table_name="rate_limits")
    op.drop_table("rate_limits")
