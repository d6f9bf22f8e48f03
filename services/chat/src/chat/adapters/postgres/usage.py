"""What each user spent per budget window, in PostgreSQL (``usage_windows``)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from chat.adapters.postgres.tables import usage_windows

_SPENT = sa.select(usage_windows.c.messages, usage_windows.c.tokens).where(
    usage_windows.c.owner_id == sa.bindparam("owner_id"),
    usage_windows.c.window_start == sa.bindparam("window_start"),
)
_statement = insert(usage_windows)
# adds in one statement, so two requests of the same user at once both count
_ADD = _statement.on_conflict_do_update(
    index_elements=[usage_windows.c.owner_id, usage_windows.c.window_start],
    set_={
        "messages": usage_windows.c.messages + _statement.excluded.messages,
        "tokens": usage_windows.c.tokens + _statement.excluded.tokens,
    },
).returning(usage_windows.c.messages, usage_windows.c.tokens)
_DELETE_OWNED = usage_windows.delete().where(usage_windows.c.owner_id == sa.bindparam("owner_id"))


class SqlAlchemyUsageLedger:
    """:class:`~chat.application.ports.budgets.UsageLedger` on the unit of work's connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def spent(self, owner_id: UUID, window_start: datetime) -> tuple[int, int]:
        row = (await self._conn.execute(_SPENT, {"owner_id": owner_id, "window_start": window_start})).first()
        return (0, 0) if row is None else (int(row.messages), int(row.tokens))

    async def add(
        self, owner_id: UUID, window_start: datetime, messages: int, tokens: int
    ) -> tuple[int, int]:
        values = {"owner_id": owner_id, "window_start": window_start, "messages": messages, "tokens": tokens}
        row = (await self._conn.execute(_ADD, values)).one()
        return int(row.messages), int(row.tokens)

    async def delete_owned_by(self, owner_id: UUID) -> int:
        return (await self._conn.execute(_DELETE_OWNED, {"owner_id": owner_id})).rowcount
