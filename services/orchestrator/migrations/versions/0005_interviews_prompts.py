"""Requirement interviews and versioned prompts (with labels).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db.migrations import migration_schema

revision = "0005"
down_revision = "0004"
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
        "interviews",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        project_id(),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("goal", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        # the conversation, read and written whole: [{role, content, created_at}]
        sa.Column("transcript", JSONB, nullable=False),
        sa.Column("assessment", JSONB, nullable=True),
        sa.Column("model", sa.Text, nullable=True),
        sa.Column("prompt_tokens", sa.Integer, nullable=False),
        sa.Column("completion_tokens", sa.Integer, nullable=False),
        at("created_at"),
        at("updated_at"),
        at("completed_at", nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'in_progress', 'completed', 'cancelled')", name="interviews_status_check"
        ),
        schema=schema,
    )
    # a project's interviews, newest first (UUIDv7 ids are time-ordered)
    op.create_index(
        "interviews_project_id_idx", "interviews", ["project_id", sa.text("id DESC")], schema=schema
    )

    op.create_table(
        "prompt_lineages",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        project_id(),
        sa.Column("latest_version", sa.Integer, nullable=False),
        # label name -> version number; read and written with the lineage, under its row lock
        sa.Column("labels", JSONB, nullable=False),
        at("created_at"),
        at("updated_at"),
        sa.CheckConstraint("latest_version >= 1", name="prompt_lineages_latest_version_check"),
        schema=schema,
    )
    op.create_index(
        "prompt_lineages_project_id_idx", "prompt_lineages", ["project_id", sa.text("id DESC")], schema=schema
    )

    op.create_table(
        "prompts",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "lineage_id",
            UUID(as_uuid=True),
            sa.ForeignKey("prompt_lineages.id", ondelete="CASCADE"),
            nullable=False,
        ),
        project_id(),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("parent_id", UUID(as_uuid=True), sa.ForeignKey("prompts.id"), nullable=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column(
            "interview_id",
            UUID(as_uuid=True),
            sa.ForeignKey("interviews.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("model", sa.Text, nullable=True),
        sa.Column("created_by", UUID(as_uuid=True), nullable=False),
        at("created_at"),
        sa.UniqueConstraint("lineage_id", "version", name="prompts_lineage_id_version_key"),
        sa.CheckConstraint("version >= 1", name="prompts_version_check"),
        sa.CheckConstraint("length(title) BETWEEN 1 AND 200", name="prompts_title_check"),
        schema=schema,
    )
    # the foreign keys' reverse lookups: deleting a version or an interview checks them
    op.create_index("prompts_parent_id_idx", "prompts", ["parent_id"], schema=schema)
    op.create_index("prompts_interview_id_idx", "prompts", ["interview_id"], schema=schema)
    op.create_index("prompts_project_id_idx", "prompts", ["project_id"], schema=schema)


def downgrade() -> None:
    schema = migration_schema()
    op.drop_table("prompts", schema=schema)
    op.drop_table("prompt_lineages", schema=schema)
    op.drop_table("interviews", schema=schema)
