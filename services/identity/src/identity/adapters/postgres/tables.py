"""identity's tables as SQLAlchemy Core objects.

Names are unqualified: the connection's search_path is identity's schema. Migrations
do not import this module; they are the history, this is the present.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import BYTEA, JSONB, UUID

metadata = sa.MetaData()


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


users = sa.Table(
    "users",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    # identity.domain.emails.canonical_email(email): what lookups match and the unique index holds.
    sa.Column("email_canonical", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=True),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("is_active", sa.Boolean, nullable=False),
    _at("email_verified_at", nullable=True),
    sa.Column("password_hash", sa.Text, nullable=True),
    _at("created_at"),
    _at("updated_at"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    _at("created_at"),
    _at("last_used_at"),
    sa.Column("user_agent", sa.Text, nullable=True),
    sa.Column("ip", sa.Text, nullable=True),
    _at("absolute_expires_at"),
    sa.Column("idle_timeout_s", sa.Integer, nullable=False),
    _at("revoked_at", nullable=True),
    sa.Column("revoke_reason", sa.Text, nullable=True),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("digest", BYTEA, primary_key=True),
    sa.Column(
        "session_id", UUID(as_uuid=True), sa.ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False
    ),
    _at("issued_at"),
    _at("spent_at", nullable=True),
)

one_time_tokens = sa.Table(
    "one_time_tokens",
    metadata,
    sa.Column("digest", BYTEA, primary_key=True),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    _at("created_at"),
    _at("expires_at"),
    _at("used_at", nullable=True),
)

oidc_links = sa.Table(
    "oidc_links",
    metadata,
    sa.Column("provider", sa.Text, primary_key=True),
    sa.Column("subject", sa.Text, primary_key=True),
    sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    _at("created_at"),
)

pending_oidc_logins = sa.Table(
    "pending_oidc_logins",
    metadata,
    sa.Column("state", sa.Text, primary_key=True),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("nonce", sa.Text, nullable=False),
    sa.Column("code_verifier", sa.Text, nullable=False),
    sa.Column("redirect_uri", sa.Text, nullable=False),
    _at("created_at"),
    _at("expires_at"),
)

audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    _at("at"),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("user_id", UUID(as_uuid=True), nullable=True),
    sa.Column("actor_id", UUID(as_uuid=True), nullable=True),
    sa.Column("ip", sa.Text, nullable=True),
    sa.Column("user_agent", sa.Text, nullable=True),
    sa.Column("details", JSONB, nullable=False),
)

attempts = sa.Table(
    "attempts",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("key", BYTEA, nullable=False),
    _at("at"),
)

known_devices = sa.Table(
    "known_devices",
    metadata,
    sa.Column("digest", BYTEA, primary_key=True),
    sa.Column(
        "user_id",
        UUID(as_uuid=True),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    _at("last_login_at"),
)
