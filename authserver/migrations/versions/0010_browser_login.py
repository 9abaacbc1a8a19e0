"""Browser login: authorization requests (and pushed ones), codes, browser sessions, refresh
tokens; clients' code-flow settings; the IdP connection's upstream client.

Revision ID: 0010_browser_login
Revises: 0009_realm_update_user_erasure
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0010_browser_login"
down_revision = "0009_realm_update_user_erasure"
branch_labels = None
depends_on = None


def _realm_fk(table):
    return sa.ForeignKeyConstraint(["realm_id"], ["realms.id"], ondelete="CASCADE",
                                   name=f"fk_{table}_realm_id_realms")


def _user_fk(table):
    return sa.ForeignKeyConstraint(["user_pk"], ["users.id"], ondelete="CASCADE",
                                   name=f"fk_{table}_user_pk_users")


def upgrade():
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False,
                                   server_default="[]"))
        batch.add_column(sa.Column("application_type", sa.String(16), nullable=False, server_default="web"))
        batch.add_column(sa.Column("require_par", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("refresh_token_ttl", sa.BigInteger()))
        batch.add_column(sa.Column("refresh_token_absolute_ttl", sa.BigInteger()))
    with op.batch_alter_table("identity_providers") as batch:
        batch.add_column(sa.Column("upstream_client_id", sa.String(255)))
        batch.add_column(sa.Column("upstream_auth_method", sa.String(32)))
        batch.add_column(sa.Column("upstream_scope", sa.String(1000)))
        batch.add_column(sa.Column("upstream_secret_sealed", sa.LargeBinary()))

    op.create_table(
        "authorization_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("handle_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("pushed", sa.Boolean(), nullable=False),
        sa.Column("device_session_pk", sa.Integer()),
        sa.Column("browser_hash", sa.String(64)),
        sa.Column("idp_name", sa.String(63)),
        sa.Column("upstream_state_hash", sa.String(64)),
        sa.Column("upstream_leg_sealed", sa.LargeBinary()),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger()),
        _realm_fk("authorization_requests"),
        sa.ForeignKeyConstraint(["device_session_pk"], ["device_sessions.id"], ondelete="SET NULL",
                                name="fk_authorization_requests_device_session_pk_device_sessions"),
        sa.PrimaryKeyConstraint("id", name="pk_authorization_requests"),
        sa.UniqueConstraint("handle_hash", name="uq_authorization_requests_handle_hash"),
        sa.UniqueConstraint("upstream_state_hash", name="uq_authorization_requests_upstream_state_hash"),
    )
    op.create_index("ix_authorization_requests_realm_id", "authorization_requests", ["realm_id"])
    op.create_index("ix_authorization_requests_expires_at", "authorization_requests", ["expires_at"])

    op.create_table(
        "authorization_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("redirect_uri", sa.String(2000), nullable=False),
        sa.Column("code_challenge", sa.String(128), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("browser_sid", sa.String(32)),
        sa.Column("idp_name", sa.String(63)),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("audience", sa.String(255)),
        sa.Column("nonce", sa.String(255)),
        sa.Column("auth_time", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger()),
        sa.Column("issued_jtis", sa.JSON(), nullable=False),
        sa.Column("refresh_family", sa.String(32)),
        _realm_fk("authorization_codes"),
        _user_fk("authorization_codes"),
        sa.PrimaryKeyConstraint("id", name="pk_authorization_codes"),
        sa.UniqueConstraint("code_hash", name="uq_authorization_codes_code_hash"),
    )
    op.create_index("ix_authorization_codes_realm_id", "authorization_codes", ["realm_id"])
    op.create_index("ix_authorization_codes_user_pk", "authorization_codes", ["user_pk"])
    op.create_index("ix_authorization_codes_expires_at", "authorization_codes", ["expires_at"])

    op.create_table(
        "browser_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(32), nullable=False),
        sa.Column("cookie_hash", sa.String(64), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("idp_name", sa.String(63)),
        sa.Column("auth_time", sa.BigInteger(), nullable=False),
        sa.Column("clients", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger()),
        _realm_fk("browser_sessions"),
        _user_fk("browser_sessions"),
        sa.PrimaryKeyConstraint("id", name="pk_browser_sessions"),
        sa.UniqueConstraint("sid", name="uq_browser_sessions_sid"),
        sa.UniqueConstraint("cookie_hash", name="uq_browser_sessions_cookie_hash"),
    )
    op.create_index("ix_browser_sessions_realm_id", "browser_sessions", ["realm_id"])
    op.create_index("ix_browser_sessions_user_pk", "browser_sessions", ["user_pk"])
    op.create_index("ix_browser_sessions_expires_at", "browser_sessions", ["expires_at"])

    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("realm_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("family", sa.String(32), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("browser_sid", sa.String(32)),
        sa.Column("idp_name", sa.String(63)),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("audience", sa.String(255)),
        sa.Column("auth_time", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("family_expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger()),
        sa.Column("revoked_at", sa.BigInteger()),
        _realm_fk("refresh_tokens"),
        _user_fk("refresh_tokens"),
        sa.PrimaryKeyConstraint("id", name="pk_refresh_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_refresh_tokens_token_hash"),
    )
    op.create_index("ix_refresh_tokens_realm_id", "refresh_tokens", ["realm_id"])
    op.create_index("ix_refresh_tokens_user_pk", "refresh_tokens", ["user_pk"])
    op.create_index("ix_refresh_tokens_family", "refresh_tokens", ["realm_id", "family"])


def downgrade():
    for table in ("refresh_tokens", "browser_sessions", "authorization_codes", "authorization_requests"):
        op.drop_table(table)
    with op.batch_alter_table("identity_providers") as batch:
        for column in ("upstream_secret_sealed", "upstream_scope", "upstream_auth_method", "upstream_client_id"):
            batch.drop_column(column)
    with op.batch_alter_table("clients") as batch:
        for column in ("refresh_token_absolute_ttl", "refresh_token_ttl", "require_par", "application_type",
                       "post_logout_redirect_uris"):
            batch.drop_column(column)
