"""Realms get a display name (``realms update``); usage rows outlive an erased user.

A deleted user's monthly usage keeps only counts: its rows point at no user, and carry a
random value per erased user and month (the same on that user's rows of one month, so
unique users are still counted once, and unrelated across months and to anything else).

Revision ID: 0009_realm_update_user_erasure
Revises: 0008_seal_fingerprint
Create Date: 2026-12-12
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_realm_update_user_erasure"
down_revision = "0008_seal_fingerprint"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("realms") as batch:
        batch.add_column(sa.Column("display_name", sa.String(100)))
        batch.add_column(sa.Column("updated_at", sa.BigInteger()))
    with op.batch_alter_table("monthly_usage") as batch:
        batch.alter_column("user_pk", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("erased_ref", sa.String(32)))


def downgrade():
    op.execute("DELETE FROM monthly_usage WHERE user_pk IS NULL")
    with op.batch_alter_table("monthly_usage") as batch:
        batch.drop_column("erased_ref")
        batch.alter_column("user_pk", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("realms") as batch:
        batch.drop_column("updated_at")
        batch.drop_column("display_name")
