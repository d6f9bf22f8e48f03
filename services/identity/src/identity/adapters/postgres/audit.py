"""The audit trail in PostgreSQL."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from identity.adapters.postgres.tables import audit_entries as entries
from identity.domain.audit import AuditEntry, AuditKind

SELECT_ENTRY = sa.select(
    entries.c.id,
    entries.c.at,
    entries.c.kind,
    entries.c.user_id,
    entries.c.actor_id,
    entries.c.ip,
    entries.c.user_agent,
    entries.c.details,
)
# Erasure keeps what happened and when, and drops whom it concerned: the ids, where from,
# and any detail (details may name the account, e.g. the address an admin saw).
_ANONYMISE_SUBJECT = (
    entries.update()
    .where(entries.c.user_id == sa.bindparam("b_user_id"))
    .values(user_id=None, ip=None, user_agent=None, details=sa.text("'{}'::jsonb"))
)
_ANONYMISE_ACTOR = (
    entries.update()
    .where(entries.c.actor_id == sa.bindparam("b_user_id"))
    .values(actor_id=None, ip=None, user_agent=None)
)


def entry_from_row(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        kind=AuditKind(row.kind),
        user_id=row.user_id,
        actor_id=row.actor_id,
        ip=row.ip,
        user_agent=row.user_agent,
        details=row.details,
    )


class SqlAlchemyAuditTrail:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def record(self, *records: AuditEntry) -> None:
        if not records:
            return
        await self._conn.execute(
            entries.insert(),
            [
                {
                    "id": entry.id,
                    "at": entry.at,
                    "kind": entry.kind.value,
                    "user_id": entry.user_id,
                    "actor_id": entry.actor_id,
                    "ip": entry.ip,
                    "user_agent": entry.user_agent,
                    "details": dict(entry.details),
                }
                for entry in records
            ],
        )

    async def anonymise(self, user_id: UUID) -> None:
        await self._conn.execute(_ANONYMISE_SUBJECT, {"b_user_id": user_id})
        await self._conn.execute(_ANONYMISE_ACTOR, {"b_user_id": user_id})
