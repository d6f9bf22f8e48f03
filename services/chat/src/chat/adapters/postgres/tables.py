"""chat's tables as SQLAlchemy Core objects.

Names are unqualified: the connection's search_path is chat's schema. Migrations do not
import this module; they are the history, this is the present. A conversation's messages
cascade from it, and a message's replies and branches cascade from it.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = sa.MetaData()


def at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("title_source", sa.Text, nullable=False),
    sa.Column("model_id", UUID(as_uuid=True), nullable=True),
    # links to orchestrator's project and task: other service's ids, so no foreign keys
    sa.Column("project_id", UUID(as_uuid=True), nullable=True),
    sa.Column("task_id", UUID(as_uuid=True), nullable=True),
    sa.Column("pinned", sa.Boolean, nullable=False),
    sa.Column("archived", sa.Boolean, nullable=False),
    sa.Column("messages_count", sa.Integer, nullable=False),
    sa.Column("selected_leaf_id", UUID(as_uuid=True), nullable=True),
    at("created_at"),
    at("last_activity_at"),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "conversation_id",
        UUID(as_uuid=True),
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
    sa.Column(
        "parent_id", UUID(as_uuid=True), sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=True
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
)
