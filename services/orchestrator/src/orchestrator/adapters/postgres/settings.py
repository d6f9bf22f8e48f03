"""System settings and their audit trail in PostgreSQL (SQLAlchemy Core)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestrator.adapters.postgres.tables import settings_audit, system_settings
from orchestrator.application.ports.settings import AuditEntry
from orchestrator.domain.events import Recorded
from orchestrator.domain.settings import REGISTRY, SettingChange, SystemSettings
from shared.kernel.aggregate import Seen
from shared.kernel.ids import new_id
from shared.kernel.pagination import Page, clamp_limit, decode_cursor, page_from_rows

# Rows exist only for the settings an admin set: no row to lock for the others, so a change
# takes a transaction-scoped advisory lock instead (its number: any constant of our own).
_LOCK_KEY: Final = 0x6F72_6368_7365_7473  # "orchsets"
_LOCK = sa.text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=_LOCK_KEY)
_ALL = sa.select(system_settings.c.name, system_settings.c.value)
_UPSERT = insert(system_settings)
_UPSERT = _UPSERT.on_conflict_do_update(
    index_elements=[system_settings.c.name],
    set_={
        "value": _UPSERT.excluded.value,
        "updated_by": _UPSERT.excluded.updated_by,
        "updated_at": _UPSERT.excluded.updated_at,
    },
)
_DELETE = system_settings.delete().where(system_settings.c.name == sa.bindparam("key"))
_AUDIT_INSERT = settings_audit.insert()
_FORGET_SETTER = (
    system_settings.update()
    .where(system_settings.c.updated_by == sa.bindparam("actor"))
    .values(updated_by=None)
)
_FORGET_ACTOR = (
    settings_audit.update().where(settings_audit.c.actor_id == sa.bindparam("actor")).values(actor_id=None)
)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(
        id=row.id, name=row.name, old=row.old_value, new=row.new_value, actor_id=row.actor_id, at=row.at
    )


class SqlAlchemySettingsRepository:
    def __init__(self, conn: AsyncConnection, seen: Seen[Recorded]) -> None:
        self._conn = conn
        self._seen = seen

    async def get(self, *, for_update: bool = False) -> SystemSettings:
        if for_update:
            await self._conn.execute(_LOCK)
        rows = (await self._conn.execute(_ALL)).all()
        # a row of a setting the code no longer knows is ignored, not an error
        settings = SystemSettings(overrides={r.name: r.value for r in rows if r.name in REGISTRY})
        self._seen.add(settings)
        return settings

    async def save(
        self, settings: SystemSettings, changes: list[SettingChange], *, actor_id: UUID, at: datetime
    ) -> None:
        names = {change.name for change in changes}
        kept = [
            {"name": name, "value": settings.overrides[name], "updated_by": actor_id, "updated_at": at}
            for name in sorted(names)
            if settings.is_set(name)
        ]
        gone = [{"key": name} for name in sorted(names) if not settings.is_set(name)]
        if kept:
            await self._conn.execute(_UPSERT, kept)
        if gone:
            await self._conn.execute(_DELETE, gone)
        await self._conn.execute(
            _AUDIT_INSERT,
            [
                {
                    "id": new_id(),
                    "name": change.name,
                    "old_value": change.old,
                    "new_value": change.new,
                    "actor_id": actor_id,
                    "at": at,
                }
                for change in changes
            ],
        )

    async def forget_actor(self, actor_id: UUID) -> None:
        await self._conn.execute(_FORGET_SETTER, {"actor": actor_id})
        await self._conn.execute(_FORGET_ACTOR, {"actor": actor_id})

    async def audit(self, *, name: str | None, cursor: str | None, limit: int | None) -> Page[AuditEntry]:
        size = clamp_limit(limit)
        statement = sa.select(*settings_audit.c).order_by(settings_audit.c.id.desc()).limit(size + 1)
        if name is not None:
            statement = statement.where(settings_audit.c.name == name)
        if cursor is not None:
            (before,) = decode_cursor(cursor, tuple[UUID])
            statement = statement.where(settings_audit.c.id < before)
        rows = (await self._conn.execute(statement)).all()
        return page_from_rows([_entry(r) for r in rows], size, lambda e: (e.id,))
