"""Accounts: users, sessions and refresh tokens, one-time tokens, OIDC links and pending
logins, the audit trail and throttled attempts.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import BYTEA, JSONB, UUID

from shared.db.migrations import migration_schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ROLES = "('user', 'admin')"
REVOKE_REASONS = (
    "('logout', 'revoked_by_user', 'refresh_reuse', 'password_changed', 'password_reset', 'deactivated',"
    " 'session_limit')"
)
PURPOSES = "('reset', 'verify_email')"
TABLES = (
    "attempts",
    "audit_entries",
    "pending_oidc_logins",
    "oidc_links",
    "one_time_tokens",
    "refresh_tokens",
    "sessions",
    "users",
)


def at(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    schema = migration_schema()
    op.create_table(
        "users",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=True),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False),
        at("email_verified_at", nullable=True),
        sa.Column("password_hash", sa.Text, nullable=True),
        at("created_at"),
        at("updated_at"),
        sa.CheckConstraint(f"role IN {ROLES}", name="users_role_check"),
        sa.CheckConstraint("length(email) BETWEEN 3 AND 254", name="users_email_check"),
        schema=schema,
    )
    # Accounts are matched on the whole address, case-insensitively (identity.domain.emails).
    op.create_index("users_email_key", "users", [sa.text("lower(email)")], unique=True, schema=schema)

    op.create_table(
        "sessions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "user_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{schema}.users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        at("created_at"),
        at("last_used_at"),
        sa.Column("user_agent", sa.Text, nullable=True),
        sa.Column("ip", sa.Text, nullable=True),
        at("absolute_expires_at"),
        sa.Column("idle_timeout_s", sa.Integer, nullable=False),
        at("revoked_at", nullable=True),
        sa.Column("revoke_reason", sa.Text, nullable=True),
        sa.CheckConstraint(
            f"revoke_reason IS NULL OR revoke_reason IN {REVOKE_REASONS}", name="sessions_revoke_reason_check"
        ),
        sa.CheckConstraint("(revoked_at IS NULL) = (revoke_reason IS NULL)", name="sessions_revoked_check"),
        schema=schema,
    )
    op.create_index("sessions_user_id_idx", "sessions", ["user_id"], schema=schema)

    op.create_table(
        "refresh_tokens",
        sa.Column("digest", BYTEA, primary_key=True),  # the lookup by digest is the primary key
        sa.Column(
            "session_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{schema}.sessions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        at("issued_at"),
        at("spent_at", nullable=True),
        schema=schema,
    )
    op.create_index("refresh_tokens_session_id_idx", "refresh_tokens", ["session_id"], schema=schema)

    op.create_table(
        "one_time_tokens",
        sa.Column("digest", BYTEA, primary_key=True),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column(
            "user_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{schema}.users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        at("created_at"),
        at("expires_at"),
        at("used_at", nullable=True),
        sa.CheckConstraint(f"purpose IN {PURPOSES}", name="one_time_tokens_purpose_check"),
        schema=schema,
    )
    op.create_index("one_time_tokens_user_id_idx", "one_time_tokens", ["user_id", "purpose"], schema=schema)

    op.create_table(
        "oidc_links",
        sa.Column("provider", sa.Text, primary_key=True),
        sa.Column("subject", sa.Text, primary_key=True),
        sa.Column(
            "user_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{schema}.users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        at("created_at"),
        schema=schema,
    )
    op.create_index("oidc_links_user_id_idx", "oidc_links", ["user_id"], schema=schema)

    op.create_table(
        "pending_oidc_logins",
        sa.Column("state", sa.Text, primary_key=True),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("nonce", sa.Text, nullable=False),
        sa.Column("code_verifier", sa.Text, nullable=False),
        sa.Column("redirect_uri", sa.Text, nullable=False),
        at("created_at"),
        at("expires_at"),
        schema=schema,
    )
    op.create_index(
        "pending_oidc_logins_expires_at_idx", "pending_oidc_logins", ["expires_at"], schema=schema
    )

    # No foreign key to users: entries outlive the account, anonymised.
    op.create_table(
        "audit_entries",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        at("at"),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), nullable=True),
        sa.Column("actor_id", UUID(as_uuid=True), nullable=True),
        sa.Column("ip", sa.Text, nullable=True),
        sa.Column("user_agent", sa.Text, nullable=True),
        sa.Column("details", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        schema=schema,
    )
    op.create_index("audit_entries_user_id_at_idx", "audit_entries", ["user_id", "at"], schema=schema)
    op.create_index("audit_entries_at_idx", "audit_entries", ["at", "id"], schema=schema)
    op.create_index(
        "audit_entries_actor_id_idx",
        "audit_entries",
        ["actor_id"],
        schema=schema,
        postgresql_where=sa.text("actor_id IS NOT NULL"),
    )

    op.create_table(
        "attempts",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("key", BYTEA, nullable=False),  # SHA-256 of the throttle key: no address stored
        at("at"),
        schema=schema,
    )
    op.create_index("attempts_key_at_idx", "attempts", ["key", "at"], schema=schema)
    op.create_index("attempts_at_idx", "attempts", ["at"], schema=schema)  # pruning, oldest first


def downgrade() -> None:
    schema = migration_schema()
    for table in TABLES:
        op.drop_table(table, schema=schema)
