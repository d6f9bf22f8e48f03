"""orchestrator's tables as SQLAlchemy Core objects.

Names are unqualified: the connection's search_path is orchestrator's schema. Migrations
do not import this module; they are the history, this is the present. Every table that
belongs to a project cascades from ``projects`` (deleting a project deletes all it holds).
"""

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

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

# -- the AI-model registry and system settings (migration 0004) ----------------------------

ai_models = sa.Table(
    "ai_models",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("provider", sa.Text, nullable=False),
    sa.Column("base_url", sa.Text, nullable=True),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("parameters", JSONB, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False),
    sa.Column("is_default", sa.Boolean, nullable=False),
    # the key encrypted at rest (AES-GCM, associated data = id) and the id of the key that did it
    sa.Column("api_key_key_id", sa.Text, nullable=True),
    sa.Column("api_key_ciphertext", sa.LargeBinary, nullable=True),
    sa.Column("api_key_hint", sa.Text, nullable=True),
    at("created_at"),
    at("updated_at"),
)

system_settings = sa.Table(
    "system_settings",
    metadata,
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("value", JSONB(none_as_null=False), nullable=False),
    # null once the admin who set it is erased
    sa.Column("updated_by", UUID(as_uuid=True), nullable=True),
    at("updated_at"),
)

settings_audit = sa.Table(
    "settings_audit",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("old_value", JSONB(none_as_null=False), nullable=False),
    sa.Column("new_value", JSONB(none_as_null=False), nullable=False),
    # null once the admin is erased: the change stays on record, the person does not
    sa.Column("actor_id", UUID(as_uuid=True), nullable=True),
    at("at"),
)

# -- the board: tasks and their activity (migration 0006) ---------------------------------

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    project_id_column(),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("details", sa.Text, nullable=False),
    sa.Column("test_strategy", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("priority", sa.Text, nullable=False),
    # byte order: fractional-indexing keys must not sort by a linguistic collation
    sa.Column("position", sa.Text(collation="C"), nullable=False),
    sa.Column("dependencies", ARRAY(UUID(as_uuid=True)), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    at("created_at"),
    at("updated_at"),
)

task_activity = sa.Table(
    "task_activity",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column("task_id", UUID(as_uuid=True), sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    project_id_column(),
    sa.Column("actor_id", UUID(as_uuid=True), nullable=False),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("field", sa.Text, nullable=True),
    sa.Column("old_value", sa.Text, nullable=True),
    sa.Column("new_value", sa.Text, nullable=True),
    at("occurred_at"),
)

# -- interviews and prompts (migration 0005) ----------------------------------------------

interviews = sa.Table(
    "interviews",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    project_id_column(),
    sa.Column("topic", sa.Text, nullable=False),
    sa.Column("goal", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("transcript", JSONB, nullable=False),
    sa.Column("assessment", JSONB, nullable=True),
    sa.Column("model", sa.Text, nullable=True),
    sa.Column("prompt_tokens", sa.Integer, nullable=False),
    sa.Column("completion_tokens", sa.Integer, nullable=False),
    at("created_at"),
    at("updated_at"),
    at("completed_at", nullable=True),
)

prompt_lineages = sa.Table(
    "prompt_lineages",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    project_id_column(),
    sa.Column("latest_version", sa.Integer, nullable=False),
    sa.Column("labels", JSONB, nullable=False),
    at("created_at"),
    at("updated_at"),
)

prompts = sa.Table(
    "prompts",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    sa.Column(
        "lineage_id",
        UUID(as_uuid=True),
        sa.ForeignKey("prompt_lineages.id", ondelete="CASCADE"),
        nullable=False,
    ),
    project_id_column(),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("parent_id", UUID(as_uuid=True), sa.ForeignKey("prompts.id"), nullable=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column(
        "interview_id", UUID(as_uuid=True), sa.ForeignKey("interviews.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column("model", sa.Text, nullable=True),
    sa.Column("created_by", UUID(as_uuid=True), nullable=False),
    at("created_at"),
    sa.UniqueConstraint("lineage_id", "version", name="prompts_lineage_id_version_key"),
)

# -- commits and chat sessions (migration 0007) -------------------------------------------

commits = sa.Table(
    "commits",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    project_id_column(),
    sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
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
)

chat_sessions = sa.Table(
    "chat_sessions",
    metadata,
    sa.Column("id", UUID(as_uuid=True), primary_key=True),
    project_id_column(),
    sa.Column("owner_id", UUID(as_uuid=True), nullable=False),
    sa.Column("task_id", UUID(as_uuid=True), nullable=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    at("created_at"),
    at("updated_at"),
    at("as_of"),
)
