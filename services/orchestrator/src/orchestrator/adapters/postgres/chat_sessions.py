"""The chat-session projection in PostgreSQL (SQLAlchemy Core; rows mapped to ``ChatSession``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from orchestrator.adapters.postgres.tables import chat_sessions
from orchestrator.domain.chat_sessions import ChatSession, State

_COLUMNS = tuple(chat_sessions.c)
_FOR_UPDATE = sa.select(*_COLUMNS).where(chat_sessions.c.id == sa.bindparam("id")).with_for_update()
_upsert = insert(chat_sessions)
# The row only moves forward, even when two worker replicas apply changes of one conversation at
# once (a missing row cannot be locked): an older change, or any change to a tombstone, is dropped.
_SAVE = _upsert.on_conflict_do_update(
    index_elements=[chat_sessions.c.id],
    set_={c.name: _upsert.excluded[c.name] for c in _COLUMNS if c.name != "id"},
    where=sa.and_(chat_sessions.c.as_of < _upsert.excluded.as_of, chat_sessions.c.state != "deleted"),
)
_LINKED = sa.select(*_COLUMNS).where(
    chat_sessions.c.owner_id == sa.bindparam("owner_id"), chat_sessions.c.state == "linked"
)
_NEWEST_FIRST = (chat_sessions.c.updated_at.desc(), chat_sessions.c.id.desc())


def session_from_row(row: Mapping[Any, Any]) -> ChatSession:
    return ChatSession(
        id=row["id"],
        owner_id=row["owner_id"],
        project_id=row["project_id"],
        task_id=row["task_id"],
        title=row["title"],
        state=cast(State, row["state"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        as_of=row["as_of"],
    )


class SqlAlchemyChatSessionRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def get_for_update(self, session_id: UUID) -> ChatSession | None:
        row = (await self._conn.execute(_FOR_UPDATE, {"id": session_id})).first()
        return None if row is None else session_from_row(row._mapping)

    async def save(self, session: ChatSession) -> None:
        await self._conn.execute(_SAVE, {c.name: getattr(session, c.name) for c in _COLUMNS})

    async def page(
        self,
        owner_id: UUID,
        *,
        project_id: UUID | None = None,
        task_id: UUID | None = None,
        after: tuple[datetime, UUID] | None,
        limit: int,
    ) -> Sequence[ChatSession]:
        statement = _LINKED
        if project_id is not None:
            statement = statement.where(chat_sessions.c.project_id == project_id)
        if task_id is not None:
            statement = statement.where(chat_sessions.c.task_id == task_id)
        if after is not None:
            statement = statement.where(
                sa.tuple_(chat_sessions.c.updated_at, chat_sessions.c.id) < sa.tuple_(*after)
            )
        statement = statement.order_by(*_NEWEST_FIRST).limit(limit)
        rows = await self._conn.execute(statement, {"owner_id": owner_id})
        return [session_from_row(row._mapping) for row in rows]
