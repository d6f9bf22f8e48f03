"""Conversations and their message trees.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db.migrations import migration_schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def at(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    schema = migration_schema()
    op.create_table(
        "conversations",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("title_source", sa.Text, nullable=False),
        sa.Column("model_id", UUID(as_uuid=True), nullable=True),
        sa.Column("project_id", UUID(as_uuid=True), nullable=True),
        sa.Column("task_id", UUID(as_uuid=True), nullable=True),
        sa.Column("pinned", sa.Boolean, nullable=False),
        sa.Column("archived", sa.Boolean, nullable=False),
        sa.Column("messages_count", sa.Integer, nullable=False),
        sa.Column("selected_leaf_id", UUID(as_uuid=True), nullable=True),
        at("created_at"),
        at("last_activity_at"),
        sa.CheckConstraint(
            "title_source IN ('none', 'user', 'auto')", name="conversations_title_source_check"
        ),
        sa.CheckConstraint("length(title) <= 200", name="conversations_title_check"),
        sa.CheckConstraint("messages_count >= 0", name="conversations_messages_count_check"),
        schema=schema,
    )
    # the owner's list, most recently active first, keyset-paged by (last_activity_at, id)
    op.create_index(
        "conversations_owner_activity_idx",
        "conversations",
        ["owner_id", sa.text("last_activity_at DESC"), sa.text("id DESC")],
        schema=schema,
    )
    op.create_table(
        "messages",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "conversation_id",
            UUID(as_uuid=True),
            sa.ForeignKey("conversations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
        sa.Column(
            "parent_id",
            UUID(as_uuid=True),
            sa.ForeignKey("messages.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("sender", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("model_id", UUID(as_uuid=True), nullable=True),
        sa.Column("metadata", JSONB, nullable=False),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
        at("created_at"),
        at("finished_at", nullable=True),
        sa.CheckConstraint("sender IN ('user', 'assistant')", name="messages_sender_check"),
        sa.CheckConstraint(
            "status IN ('pending', 'streaming', 'completed', 'stopped', 'failed')",
            name="messages_status_check",
        ),
        sa.CheckConstraint("prompt_tokens >= 0 AND completion_tokens >= 0", name="messages_tokens_check"),
        schema=schema,
    )
    # a conversation's messages in one query; the parent FK is indexed for its cascade
    op.create_index("messages_conversation_id_idx", "messages", ["conversation_id", "id"], schema=schema)
    op.create_index("messages_parent_id_idx", "messages", ["parent_id"], schema=schema)


def downgrade() -> None:
    schema = migration_schema()
    op.drop_table("messages", schema=schema)
    op.drop_table("conversations", schema=schema)
