"""Identity: IdP connections, users, identity links, monthly usage.

Revision ID: 0003_identity
Revises: 0002_clients_backends_audit
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_identity"
down_revision = "0002_clients_backends_audit"
branch_labels = None
depends_on = None


def _fk(table, column, target, ondelete="CASCADE"):
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], ondelete=ondelete,
                                   name=f"fk_{table}_{column}_{target}")


def upgrade():
    op.create_table(
        "identity_providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("trust", sa.String(16), nullable=False),
        sa.Column("user_id_claim", sa.String(255), nullable=False),
        sa.Column("provisioning", sa.String(32), nullable=False),
        sa.Column("claim_mapping", sa.JSON(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary()),
        sa.Column("client_id", sa.String(64)),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        _fk("identity_providers", "realm_id", "realms"),
        sa.PrimaryKeyConstraint("id", name="pk_identity_providers"),
        sa.UniqueConstraint("realm_id", "name", name="uq_identity_providers_realm_id"),
    )
    op.create_index("ix_identity_providers_realm_id", "identity_providers", ["realm_id"])
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(255)),
        sa.Column("given_name", sa.String(255)),
        sa.Column("family_name", sa.String(255)),
        sa.Column("name", sa.String(255)),
        sa.Column("email", sa.String(320)),
        sa.Column("picture", sa.String(2048)),
        sa.Column("custom", sa.JSON()),
        sa.Column("unverified", sa.JSON()),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("workspaces", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("merged_into", sa.String(32)),
        sa.Column("tokens_not_before", sa.BigInteger()),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", sa.BigInteger()),
        _fk("users", "realm_id", "realms"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("uid", name="uq_users_uid"),
        sa.UniqueConstraint("realm_id", "user_id", name="uq_users_realm_id"),
    )
    op.create_index("ix_users_realm_id", "users", ["realm_id"])
    op.create_index("ix_users_email", "users", ["email"])
    op.create_table(
        "identity_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("idp_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("last_claims", sa.JSON()),
        sa.Column("first_login_at", sa.BigInteger(), nullable=False),
        sa.Column("last_login_at", sa.BigInteger(), nullable=False),
        _fk("identity_links", "realm_id", "realms"),
        _fk("identity_links", "idp_id", "identity_providers"),
        _fk("identity_links", "user_pk", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_identity_links"),
        sa.UniqueConstraint("realm_id", "idp_id", "subject", name="uq_identity_links_realm_id"),
    )
    op.create_index("ix_identity_links_user_pk", "identity_links", ["user_pk"])
    op.create_table(
        "monthly_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("idp", sa.String(63), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        _fk("monthly_usage", "realm_id", "realms"),
        _fk("monthly_usage", "user_pk", "users"),
        sa.PrimaryKeyConstraint("id", name="pk_monthly_usage"),
        sa.UniqueConstraint("realm_id", "month", "user_pk", "client_id", "idp",
                            name="uq_monthly_usage_realm_id"),
    )
    op.create_index("ix_monthly_usage_realm_id", "monthly_usage", ["realm_id"])


def downgrade():
    for table in ("monthly_usage", "identity_links", "users", "identity_providers"):
        op.drop_table(table)
