"""Replicas of orchestrator's registry, settings and ownership; budgets; attachments;
generation leases; full-text search.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR, UUID

from shared.db.migrations import migration_schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def at(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def uuid(name: str, *, nullable: bool = False, primary_key: bool = False) -> sa.Column:
    return sa.Column(name, UUID(as_uuid=True), nullable=nullable, primary_key=primary_key)


def upgrade() -> None:
    schema = migration_schema()
    # Replicas: rows as orchestrator's events last described them. ``changed_at`` is the
    # occurred_at of the event applied last (an older event changes nothing); ``deleted``
    # rows are tombstones, so a late created/updated cannot bring a deleted one back.
    op.create_table(
        "model_replicas",
        uuid("id", primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("base_url", sa.Text, nullable=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("parameters", JSONB, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        # sealed under the seal key (never plaintext at rest); unsealed only to call the model
        sa.Column("sealed_api_key", sa.Text, nullable=True),
        sa.Column("deleted", sa.Boolean, nullable=False),
        at("changed_at"),
        schema=schema,
    )
    op.create_table(
        "setting_replicas",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", JSONB, nullable=False),
        at("changed_at"),
        schema=schema,
    )
    op.create_table(
        "project_replicas",
        uuid("id", primary_key=True),
        uuid("owner_id"),
        sa.Column("deleted", sa.Boolean, nullable=False),
        at("changed_at"),
        schema=schema,
    )
    op.create_table(
        "task_replicas",
        uuid("id", primary_key=True),
        uuid("project_id"),
        uuid("owner_id"),
        sa.Column("deleted", sa.Boolean, nullable=False),
        at("changed_at"),
        schema=schema,
    )
    # a project's deletion tombstones its tasks
    op.create_index("task_replicas_project_id_idx", "task_replicas", ["project_id"], schema=schema)

    # Budgets: what each user spent in each fixed window (kept apart from messages, so
    # deleting a conversation does not give its tokens back).
    op.create_table(
        "usage_windows",
        uuid("owner_id"),
        at("window_start"),
        sa.Column("messages", sa.Integer, nullable=False),
        sa.Column("tokens", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("owner_id", "window_start", name="usage_windows_pkey"),
        sa.CheckConstraint("messages >= 0 AND tokens >= 0", name="usage_windows_counts_check"),
        schema=schema,
    )

    op.create_table(
        "attachments",
        uuid("id", primary_key=True),
        uuid("owner_id"),
        sa.Column(
            "message_id",
            UUID(as_uuid=True),
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("media_type", sa.Text, nullable=False),
        # display only: never used as a path
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        # the blob's content address (hex SHA-256), stored per owner
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("transcript", sa.Text, nullable=True),
        at("created_at"),
        sa.CheckConstraint("kind IN ('image', 'audio', 'text', 'pdf')", name="attachments_kind_check"),
        sa.CheckConstraint("size_bytes >= 0", name="attachments_size_check"),
        sa.CheckConstraint("length(filename) <= 255", name="attachments_filename_check"),
        schema=schema,
    )
    op.create_index("attachments_owner_id_idx", "attachments", ["owner_id", "id"], schema=schema)
    op.create_index("attachments_message_id_idx", "attachments", ["message_id"], schema=schema)

    # Generations: the API process running a reply renews its lease; a reply whose lease
    # lapsed is failed by whoever notices (its process died).
    op.add_column("messages", at("lease_expires_at", nullable=True), schema=schema)
    op.create_index(
        "messages_lease_idx",
        "messages",
        ["lease_expires_at"],
        postgresql_where=sa.text("status IN ('pending', 'streaming')"),
        schema=schema,
    )

    # Search: generated columns stay in sync within the writing transaction by construction.
    op.add_column(
        "messages",
        sa.Column(
            "search",
            TSVECTOR,
            sa.Computed("to_tsvector('english'::regconfig, content)", persisted=True),
            nullable=False,
        ),
        schema=schema,
    )
    op.create_index("messages_search_idx", "messages", ["search"], postgresql_using="gin", schema=schema)
    op.add_column(
        "conversations",
        sa.Column(
            "search",
            TSVECTOR,
            sa.Computed("to_tsvector('english'::regconfig, title)", persisted=True),
            nullable=False,
        ),
        schema=schema,
    )
    op.create_index(
        "conversations_search_idx", "conversations", ["search"], postgresql_using="gin", schema=schema
    )


def downgrade() -> None:
    schema = migration_schema()
    op.drop_index("conversations_search_idx", "conversations", schema=schema)
    op.drop_column("conversations", "search", schema=schema)
    op.drop_index("messages_search_idx", "messages", schema=schema)
    op.drop_column("messages", "search", schema=schema)
    op.drop_index("messages_lease_idx", "messages", schema=schema)
    op.drop_column("messages", "lease_expires_at", schema=schema)
    for table in (
        "attachments",
        "usage_windows",
        "task_replicas",
        "project_replicas",
        "setting_replicas",
        "model_replicas",
    ):
        op.drop_table(table, schema=schema)
