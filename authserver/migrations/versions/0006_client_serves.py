"""Clients that serve a chat backend: they introspect its tokens and re-exchange what it
received (RFC 7662 §4, RFC 8693 §2.2.2).

Revision ID: 0006_client_serves
Revises: 0005_rate_limits
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_client_serves"
down_revision = "0005_rate_limits"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("serves", sa.JSON(), nullable=False, server_default="[]"))


def downgrade():
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("serves")
