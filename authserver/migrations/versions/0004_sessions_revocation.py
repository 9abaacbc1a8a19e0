"""Anonymous device sessions, revoked tokens, per-client revocation cut-off.

Revision ID: 0004_sessions_revocation
Revises: 0003_identity
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_sessions_revocation"
down_revision = "0003_identity"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "device_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("source_address", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger()),
        sa.ForeignKeyConstraint(["realm_id"], ["realms.id"], ondelete="CASCADE",
                                name="fk_device_sessions_realm_id_realms"),
        sa.ForeignKeyConstraint(["user_pk"], ["users.id"], ondelete="CASCADE",
                                name="fk_device_sessions_user_pk_users"),
        sa.PrimaryKeyConstraint("id", name="pk_device_sessions"),
        sa.UniqueConstraint("sid", name="uq_device_sessions_sid"),
        sa.UniqueConstraint("token_hash", name="uq_device_sessions_token_hash"),
    )
    op.create_index("ix_device_sessions_user_pk", "device_sessions", ["user_pk"])
    op.create_index("ix_device_sessions_client_source", "device_sessions",
                    ["realm_id", "client_id", "source_address", "created_at"])
    op.create_table(
        "revoked_tokens",
        sa.Column("jti_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("jti_hash", name="pk_revoked_tokens"),
    )
    op.create_index("ix_revoked_tokens_expires_at", "revoked_tokens", ["expires_at"])
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("tokens_not_before", sa.BigInteger()))


def downgrade():
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("tokens_not_before")
    op.drop_table("revoked_tokens")
    op.drop_table("device_sessions")
