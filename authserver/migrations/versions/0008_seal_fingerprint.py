"""The database seal: the fingerprint of the SECRET_KEY that seals this database (never the
key) and the database's hashing key, sealed under it.

Revision ID: 0008_seal_fingerprint
Revises: 0007
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_seal_fingerprint"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "database_seal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_fingerprint", sa.String(64), nullable=False),
        sa.Column("hashing_key_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("sealed_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_database_seal"),
    )


def downgrade():
    op.drop_table("database_seal")
