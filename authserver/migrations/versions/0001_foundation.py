"""Foundation: realms and their signing keys.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "realms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_realms")),
        sa.UniqueConstraint("name", name=op.f("uq_realms_name")),
    )
    op.create_table(
        "signing_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("alg", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("private_key_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("activates_at", sa.BigInteger(), nullable=False),
        sa.Column("retired_at", sa.BigInteger(), nullable=True),
        sa.Column("remove_after", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["realm_id"], ["realms.id"], ondelete="CASCADE",
                                name=op.f("fk_signing_keys_realm_id_realms")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_keys")),
        sa.UniqueConstraint("kid", name=op.f("uq_signing_keys_kid")),
    )
    op.create_index(op.f("ix_signing_keys_realm_id"), "signing_keys", ["realm_id"])
    for state in ("active", "next"):
        op.create_index(f"uq_signing_keys_one_{state}", "signing_keys", ["realm_id"], unique=True,
                        sqlite_where=sa.text(f"state = '{state}'"),
                        postgresql_where=sa.text(f"state = '{state}'"))


def downgrade():
    op.drop_table("signing_keys")
    op.drop_table("realms")
