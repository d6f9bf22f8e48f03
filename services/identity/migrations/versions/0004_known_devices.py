"""Known devices: the devices (opaque cookie tokens, stored as their SHA-256) a login succeeded
from, per account; they are let through the account's login slowdown.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import BYTEA, UUID

from shared.db.migrations import migration_schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema = migration_schema()
    op.create_table(
        "known_devices",
        sa.Column("digest", BYTEA, primary_key=True),
        sa.Column(
            "user_id",
            UUID(as_uuid=True),
            sa.ForeignKey(f"{schema}.users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )
    # The account's erasure (ON DELETE CASCADE) finds its devices by user_id.
    op.create_index("known_devices_user_id_idx", "known_devices", ["user_id"], schema=schema)


def downgrade() -> None:
    op.drop_table("known_devices", schema=migration_schema())
