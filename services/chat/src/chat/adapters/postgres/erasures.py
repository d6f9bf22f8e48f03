"""The erasure record in PostgreSQL."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from chat.adapters.postgres.tables import erasures
from chat.domain.erasure import Erasure

_GET = sa.select(erasures.c.user_id, erasures.c.event_id, erasures.c.erased_at).where(
    erasures.c.user_id == sa.bindparam("user_id")
)


class SqlAlchemyErasureRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get(self, user_id: UUID) -> Erasure | None:
        row = (await self._conn.execute(_GET, {"user_id": user_id})).first()
        if row is None:
            return None
        return Erasure(user_id=row.user_id, event_id=row.event_id, erased_at=row.erased_at)

    async def add(self, erasure: Erasure) -> None:
        await self._conn.execute(
            erasures.insert(),
            {"user_id": erasure.user_id, "event_id": erasure.event_id, "erased_at": erasure.erased_at},
        )
