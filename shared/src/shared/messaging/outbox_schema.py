"""The outbox and inbox tables, as SQLAlchemy Core tables and as migration DDL.

Each service's first Alembic revision calls :func:`create_outbox_and_inbox` so
the tables live in the service's own schema. ``outbox_notify`` wakes the relay
on commit (NOTIFY is delivered only when the inserting transaction commits).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

metadata = sa.MetaData()

# Unqualified: each service's connection has search_path = its own schema.
outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
    sa.Column("event_id", PG_UUID(as_uuid=True), nullable=False, unique=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("subject_id", sa.Text, nullable=True),
    sa.Column("traceparent", sa.Text, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
)

inbox = sa.Table(
    "inbox",
    metadata,
    sa.Column("consumer", sa.Text, primary_key=True),
    sa.Column("event_id", PG_UUID(as_uuid=True), primary_key=True),
    sa.Column("event_type", sa.Text, nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)


def notify_channel(schema: str) -> str:
    return f"{schema}_outbox"


def create_outbox_and_inbox(op: Any, schema: str) -> None:
    """Revision 1 of the messaging tables (called from a service's Alembic migration)."""
    op.create_table(
        "outbox",
        *(c._copy() for c in outbox.columns),  # type: ignore[attr-defined]
        schema=schema,
    )
    op.create_index(
        "outbox_pending_idx",
        "outbox",
        ["id"],
        schema=schema,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_index(
        "outbox_published_at_idx",
        "outbox",
        ["published_at"],
        schema=schema,
        postgresql_where=sa.text("published_at IS NOT NULL"),
    )
    op.create_table("inbox", *(c._copy() for c in inbox.columns), schema=schema)  # type: ignore[attr-defined]
    channel = notify_channel(schema)
    op.execute(
        f"""
        CREATE FUNCTION {schema}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('{channel}', ''); RETURN NULL; END $$
        """
    )
    op.execute(
        f"CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_notify()"
    )


def drop_outbox_and_inbox(op: Any, schema: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS outbox_notify ON {schema}.outbox")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.outbox_notify()")
    op.drop_table("inbox", schema=schema)
    op.drop_table("outbox", schema=schema)
