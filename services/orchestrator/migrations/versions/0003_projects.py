"""Projects: the root every interview, prompt, task, commit and chat-session link hangs from.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

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
        "projects",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        at("created_at"),
        at("updated_at"),
        at("archived_at", nullable=True),
        sa.CheckConstraint("status IN ('active', 'archived')", name="projects_status_check"),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 200", name="projects_name_check"),
        schema=schema,
    )
    # the owner's list, newest first (ids are UUIDv7: time-ordered), and its status filter
    op.create_index("projects_owner_id_idx", "projects", ["owner_id", sa.text("id DESC")], schema=schema)


def downgrade() -> None:
    op.drop_table("projects", schema=migration_schema())
