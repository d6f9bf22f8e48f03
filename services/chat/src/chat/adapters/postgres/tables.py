"""chat's tables as SQLAlchemy Core objects.

Names are unqualified: the connection's search_path is chat's schema. Migrations do not
import this module; they are the history, this is the present. A conversation's messages
cascade from it, and a message's replies and branches cascade from it.
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR, UUID

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
    # generated: in sync with the title in the writing transaction (conversations_search_idx, GIN)
    sa.Column("search", TSVECTOR, sa.Computed("to_tsvector('english'::regconfig, title)"), nullable=False),
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
    # the generating process renews it; lapsed while pending/streaming = that process died
    at("lease_expires_at", nullable=True),
    # generated from content (messages_search_idx, GIN)
    sa.Column("search", TSVECTOR, sa.Computed("to_tsvector('english'::regconfig, content)"), nullable=False),
)


# Replicas of orchestrator's facts, from its events. ``changed_at`` is the occurred_at of the
# event applied last (older events change nothing); ``deleted`` rows are tombstones.
model_replicas = sa.Table(
    "model_replicas",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("base_url", sa.Text, nullable=True),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("parameters", JSONB, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    # sealed under the seal key, as the event carried it; unsealed only to call the model
    sa.Column("sealed_api_key", sa.Text, nullable=True),
    sa.Column("deleted", sa.Boolean, nullable=False),
    at("changed_at"),
)

setting_replicas = sa.Table(
    "setting_replicas",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", JSONB, nullable=False),
    at("changed_at"),
)

project_replicas = sa.Table(
    "project_replicas",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False),
    at("changed_at"),
)

task_replicas = sa.Table(
    "task_replicas",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("project_id", UUID(as_uuid=True), nullable=False),
    sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False),
    at("changed_at"),
)

# What each user spent per fixed budget window; apart from messages, so deleting a
# conversation gives nothing back.
usage_windows = sa.Table(
    "usage_windows",
    metadata,
    sa.Column("owner_id", UUID(as_uuid=True), primary_key=True),
    sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("messages", sa.Integer, nullable=False),
    sa.Column("tokens", sa.BigInteger, nullable=False),
)

attachments = sa.Table(
    "attachments",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
    sa.Column(
        "message_id", UUID(as_uuid=True), sa.ForeignKey("messages.id", ondelete="CASCADE"), nullable=True
    ),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("media_type", sa.Text, nullable=False),
    # display only: never a path
    sa.Column("filename", sa.Text, nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    # the blob's content address (hex SHA-256) in the owner's part of the blob store
    sa.Column("sha256", sa.Text, nullable=False),
    sa.Column("transcript", sa.Text, nullable=True),
    at("created_at"),
)
