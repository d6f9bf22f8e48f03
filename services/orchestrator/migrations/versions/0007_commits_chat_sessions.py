"""Conventional commits and the projection of chat sessions.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db.migrations import migration_schema

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def at(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def project_id() -> sa.Column:
    return sa.Column(
        "project_id", UUID(as_uuid=True), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    schema = migration_schema()
    op.create_table(
        "commits",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        project_id(),
        sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
        # a task link, not a foreign key: the commit outlives the task it was for
        sa.Column("task_id", UUID(as_uuid=True), nullable=True),
        sa.Column("sha", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("type", sa.Text, nullable=False),
        sa.Column("scope", sa.Text, nullable=True),
        sa.Column("breaking", sa.Boolean, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body", sa.Text, nullable=True),
        sa.Column("footers", JSONB, nullable=False),
        sa.Column("breaking_note", sa.Text, nullable=True),
        at("committed_at"),
        at("created_at"),
        sa.UniqueConstraint("project_id", "sha", name="commits_project_id_sha_key"),
        sa.CheckConstraint("sha ~ '^[0-9a-f]{7,40}$'", name="commits_sha_check"),
        schema=schema,
    )
    # the project's history and changelog, newest first
    op.create_index(
        "commits_project_committed_idx",
        "commits",
        ["project_id", sa.text("committed_at DESC"), sa.text("id DESC")],
        schema=schema,
    )
    op.create_index("commits_task_id_idx", "commits", ["task_id"], schema=schema)
    op.create_table(
        "chat_sessions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),  # the chat service's conversation id
        project_id(),
        sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("task_id", UUID(as_uuid=True), nullable=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        at("created_at"),
        at("updated_at"),
        at("as_of"),
        sa.CheckConstraint("state IN ('linked', 'unlinked', 'deleted')", name="chat_sessions_state_check"),
        schema=schema,
    )
    # the project's and the task's sessions, most recently updated first
    op.create_index(
        "chat_sessions_project_idx",
        "chat_sessions",
        ["project_id", sa.text("updated_at DESC"), sa.text("id DESC")],
        schema=schema,
    )
    op.create_index(
        "chat_sessions_task_idx",
        "chat_sessions",
        ["task_id", sa.text("updated_at DESC"), sa.text("id DESC")],
        schema=schema,
    )


def downgrade() -> None:
    schema = migration_schema()
    op.drop_table("chat_sessions", schema=schema)
    op.drop_table("commits", schema=schema)
