"""Frozen DDL that several services' Alembic revisions share.

A revision is history: once a database ran it, what it created must not change when
the code does. So nothing here imports a live table definition (``outbox_schema``,
``shared.erasure.tables``, a service's ``adapters``); every column is spelled out as
it was on the day the revision was written. Each function is versioned and never
edited after release: a change to a shared table is a new ``..._v2`` function called
by a new revision, and the live table definition follows it.

``op`` is ``alembic.op`` (or an ``Operations``) of the running migration; ``schema``
is the schema being migrated (``shared.db.migrations.migration_schema()``).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

Op = Any
"""``alembic.op``: a module proxying the running ``Operations``, so typed loosely."""


# -- messaging: outbox and inbox (revision 0001 of every service) ------------------------------


def create_messaging_tables_v1(op: Op, schema: str) -> None:
    """The outbox (events to publish), the inbox (events applied) and the commit wake-up.

    ``outbox_notify`` wakes the relay: NOTIFY is delivered only when the inserting
    transaction commits. The channel is ``<schema>_outbox``.
    """
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
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
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=schema,
    )
    op.execute(
        f"""
        CREATE FUNCTION {schema}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('{schema}_outbox', ''); RETURN NULL; END $$
        """
    )
    op.execute(
        f"CREATE TRIGGER outbox_notify AFTER INSERT ON {schema}.outbox "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {schema}.outbox_notify()"
    )


def drop_messaging_tables_v1(op: Op, schema: str) -> None:
    op.execute(f"DROP TRIGGER IF EXISTS outbox_notify ON {schema}.outbox")
    op.execute(f"DROP FUNCTION IF EXISTS {schema}.outbox_notify()")
    op.drop_table("inbox", schema=schema)
    op.drop_table("outbox", schema=schema)


# -- the erasure ledger (chat and orchestrator, revision 0002) ---------------------------------


def create_erasure_ledger_v1(op: Op, schema: str) -> None:
    """``erasures``: one row per user whose data the service erased, and the deletion event that asked."""
    op.create_table(
        "erasures",
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        schema=schema,
    )


def drop_erasure_ledger_v1(op: Op, schema: str) -> None:
    op.drop_table("erasures", schema=schema)
