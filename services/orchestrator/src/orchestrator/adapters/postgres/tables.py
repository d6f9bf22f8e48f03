"""orchestrator's tables as SQLAlchemy Core objects.

Names are unqualified: the connection's search_path is orchestrator's schema. Migrations
do not import this module; they are the history, this is the present. Every table that
belongs to a project cascades from ``projects`` (deleting a project deletes all it holds).
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

metadata = sa.MetaData()


def at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def project_id_column() -> sa.Column[object]:
    """The owning project, cascading its deletion."""
    return sa.Column(
        "project_id", UUID(as_uuid=True), sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False
    )


projects = sa.Table(
    "projects",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    at("created_at"),
    at("updated_at"),
    at("archived_at", nullable=True),
)
