"""Admin console: single-use sign-in links, console sessions, and the users' console role.

Revision ID: 0011_console
Revises: 0010_browser_login
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_console"
down_revision = "0010_browser_login"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("console_role", sa.String(16)))
    op.create_table(
        "console_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("realm", sa.String(63)),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger()),
        sa.PrimaryKeyConstraint("id", name="pk_console_links"),
        sa.UniqueConstraint("token_hash", name="uq_console_links_token_hash"),
    )
    op.create_index("ix_console_links_expires_at", "console_links", ["expires_at"])
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cookie_hash", sa.String(64), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("realm", sa.String(63)),
        sa.Column("user_pk", sa.Integer()),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger()),
        sa.ForeignKeyConstraint(["user_pk"], ["users.id"], ondelete="CASCADE",
                                name="fk_console_sessions_user_pk_users"),
        sa.PrimaryKeyConstraint("id", name="pk_console_sessions"),
        sa.UniqueConstraint("cookie_hash", name="uq_console_sessions_cookie_hash"),
    )
    op.create_index("ix_console_sessions_user_pk", "console_sessions", ["user_pk"])
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])


def downgrade():
    op.drop_table("console_sessions")
    op.drop_table("console_links")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("console_role")
