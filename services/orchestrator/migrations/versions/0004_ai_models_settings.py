"""The AI-model registry and system settings (with their audit trail).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db.migrations import migration_schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def at(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    schema = migration_schema()
    op.create_table(
        "ai_models",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("base_url", sa.Text, nullable=True),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("parameters", JSONB, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("is_default", sa.Boolean, nullable=False),
        sa.Column("api_key_key_id", sa.Text, nullable=True),
        sa.Column("api_key_ciphertext", sa.LargeBinary, nullable=True),
        sa.Column("api_key_hint", sa.Text, nullable=True),
        at("created_at"),
        at("updated_at"),
        sa.CheckConstraint(
            "provider IN ('openai', 'ollama', 'offline', 'local')", name="ai_models_provider_check"
        ),
        sa.CheckConstraint("length(name) BETWEEN 1 AND 100", name="ai_models_name_check"),
        sa.CheckConstraint(
            "(api_key_key_id IS NULL) = (api_key_ciphertext IS NULL)", name="ai_models_api_key_check"
        ),
        sa.CheckConstraint("NOT is_default OR enabled", name="ai_models_default_enabled_check"),
        schema=schema,
    )
    # at most one default model
    op.create_index(
        "ai_models_one_default_idx",
        "ai_models",
        ["is_default"],
        unique=True,
        postgresql_where=sa.text("is_default"),
        schema=schema,
    )
    op.create_table(
        "system_settings",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", JSONB, nullable=False),
        sa.Column("updated_by", UUID(as_uuid=True), nullable=True),
        at("updated_at"),
        schema=schema,
    )
    op.create_table(
        "settings_audit",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("old_value", JSONB, nullable=False),
        sa.Column("new_value", JSONB, nullable=False),
        sa.Column("actor_id", UUID(as_uuid=True), nullable=True),
        at("at"),
        schema=schema,
    )
    # one setting's history, newest first (ids are UUIDv7: time-ordered); the whole trail reads the key
    op.create_index("settings_audit_name_idx", "settings_audit", ["name", sa.text("id DESC")], schema=schema)
    # the erasure of an admin finds their entries
    op.create_index("settings_audit_actor_idx", "settings_audit", ["actor_id"], schema=schema)


def downgrade() -> None:
    schema = migration_schema()
    op.drop_table("settings_audit", schema=schema)
    op.drop_table("system_settings", schema=schema)
    op.drop_table("ai_models", schema=schema)
