"""The Kanban board: tasks (with their dependencies) and their activity.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from shared.db.migrations import migration_schema

revision = "0006"
down_revision = "0005"
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
        "tasks",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        project_id(),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("test_strategy", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("priority", sa.Text, nullable=False),
        # fractional-indexing keys are base-62 strings compared byte by byte: a linguistic
        # collation would sort "a" and "B" the other way round
        sa.Column("position", sa.Text(collation="C"), nullable=False),
        # read with the task (the board is one query); kept to tasks of the same project by the
        # use cases, and cleaned of a deleted task in the same transaction
        sa.Column("dependencies", ARRAY(UUID(as_uuid=True)), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        at("created_at"),
        at("updated_at"),
        sa.CheckConstraint(
            "status IN ('backlog', 'todo', 'in_progress', 'review', 'done')", name="tasks_status_check"
        ),
        sa.CheckConstraint("priority IN ('low', 'medium', 'high', 'urgent')", name="tasks_priority_check"),
        sa.CheckConstraint("length(title) BETWEEN 1 AND 200", name="tasks_title_check"),
        sa.CheckConstraint("version >= 1", name="tasks_version_check"),
        schema=schema,
    )
    # the board (a project's columns in key order), a column's neighbours and its end
    op.create_index("tasks_board_idx", "tasks", ["project_id", "status", "position"], schema=schema)

    op.create_table(
        "task_activity",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column(
            "task_id", UUID(as_uuid=True), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False
        ),
        project_id(),
        sa.Column("actor_id", UUID(as_uuid=True), nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("field", sa.Text, nullable=True),
        sa.Column("old_value", sa.Text, nullable=True),
        sa.Column("new_value", sa.Text, nullable=True),
        at("occurred_at"),
        sa.CheckConstraint("action IN ('created', 'updated', 'moved')", name="task_activity_action_check"),
        schema=schema,
    )
    # a task's history, newest first (UUIDv7 ids are time-ordered)
    op.create_index(
        "task_activity_task_id_idx", "task_activity", ["task_id", sa.text("id DESC")], schema=schema
    )
    # the project's cascade deletes its rows: an index keeps that from scanning the table
    op.create_index("task_activity_project_id_idx", "task_activity", ["project_id"], schema=schema)


def downgrade() -> None:
    schema = migration_schema()
    op.drop_table("task_activity", schema=schema)
    op.drop_table("tasks", schema=schema)
