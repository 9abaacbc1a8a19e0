"""Clients, chat backends, audit log, initial access tokens, replay cache.

Revision ID: 0002_clients_backends_audit
Revises: 0001_foundation
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_clients_backends_audit"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def _realm_fk(table):
    return sa.ForeignKeyConstraint(["realm_id"], ["realms.id"], ondelete="CASCADE",
                                   name=f"fk_{table}_realm_id_realms")


def upgrade():
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("auth_method", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(64)),
        sa.Column("previous_secret_hash", sa.String(64)),
        sa.Column("previous_secret_expires_at", sa.BigInteger()),
        sa.Column("jwks", sa.JSON()),
        sa.Column("jwks_uri", sa.Text()),
        sa.Column("grant_types", sa.JSON(), nullable=False),
        sa.Column("audiences", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("idps", sa.JSON(), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("allow_anonymous", sa.Boolean(), nullable=False),
        sa.Column("allow_delegation", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("registration_token_hash", sa.String(64)),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        _realm_fk("clients"),
        sa.PrimaryKeyConstraint("id", name="pk_clients"),
        sa.UniqueConstraint("realm_id", "client_id", name="uq_clients_realm_id"),
    )
    op.create_index("ix_clients_realm_id", "clients", ["realm_id"])
    op.create_table(
        "chat_backends",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("audience", sa.String(255), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("default_scopes", sa.JSON(), nullable=False),
        sa.Column("acl_template", sa.JSON()),
        sa.Column("profile", sa.String(64), nullable=False),
        sa.Column("credential_sealed", sa.LargeBinary()),
        sa.Column("token_ttl", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        _realm_fk("chat_backends"),
        sa.PrimaryKeyConstraint("id", name="pk_chat_backends"),
        sa.UniqueConstraint("realm_id", "audience", name="uq_chat_backends_realm_id"),
    )
    op.create_index("ix_chat_backends_realm_id", "chat_backends", ["realm_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_id", sa.String(255), nullable=False),
        sa.Column("before", sa.JSON()),
        sa.Column("after", sa.JSON()),
        _realm_fk("audit_events"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_realm_id", "audit_events", ["realm_id"])
    op.create_table(
        "initial_access_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _realm_fk("initial_access_tokens"),
        sa.PrimaryKeyConstraint("id", name="pk_initial_access_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_initial_access_tokens_token_hash"),
    )
    op.create_index("ix_initial_access_tokens_realm_id", "initial_access_tokens", ["realm_id"])
    op.create_table(
        "replay_cache",
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key_hash", name="pk_replay_cache"),
    )
    op.create_index("ix_replay_cache_expires_at", "replay_cache", ["expires_at"])


def downgrade():
    for table in ("replay_cache", "initial_access_tokens", "audit_events", "chat_backends", "clients"):
        op.drop_table(table)
