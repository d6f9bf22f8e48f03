"""The conversation list and the sibling query in PostgreSQL (SQLAlchemy Core).

The list walks ``conversations_owner_activity_idx`` (owner_id, last_activity_at DESC, id DESC)
by keyset; the filters are checked on the rows it reaches. Siblings use
``messages_parent_id_idx`` (roots: ``messages_conversation_id_idx``).
"""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from chat.adapters.postgres.conversations import conversation_from_row
from chat.adapters.postgres.tables import conversations, messages
from chat.application.ports.conversation_lists import ConversationFilter, Position
from chat.domain.conversations import Conversation

_COLUMNS = tuple(c for c in conversations.c if c.computed is None)
_OWNED = sa.select(*_COLUMNS).where(conversations.c.owner_id == sa.bindparam("owner_id"))
_NEWEST_ACTIVITY_FIRST = (conversations.c.last_activity_at.desc(), conversations.c.id.desc())
_SIBLINGS = (
    sa.select(messages.c.id)
    .where(messages.c.conversation_id == sa.bindparam("conversation_id"))
    .order_by(messages.c.created_at, messages.c.id)
)
_CHILDREN = _SIBLINGS.where(messages.c.parent_id == sa.bindparam("parent_id"))
_ROOTS = _SIBLINGS.where(messages.c.parent_id.is_(None))


class SqlAlchemyConversationLists:
    def __init__(self, conn: AsyncConnection) -> None:
        self._conn = conn

    async def page(
        self, owner_id: UUID, where: ConversationFilter, *, after: Position | None, limit: int
    ) -> Sequence[Conversation]:
        statement = _OWNED
        for column, wanted in (
            (conversations.c.archived, where.archived),
            (conversations.c.pinned, where.pinned),
            (conversations.c.project_id, where.project_id),
            (conversations.c.task_id, where.task_id),
        ):
            if wanted is not None:
                statement = statement.where(column == wanted)
        if after is not None:
            statement = statement.where(
                sa.tuple_(conversations.c.last_activity_at, conversations.c.id) < sa.tuple_(*after)
            )
        statement = statement.order_by(*_NEWEST_ACTIVITY_FIRST).limit(limit)
        rows = await self._conn.execute(statement, {"owner_id": owner_id})
        return [conversation_from_row(row._mapping) for row in rows]

    async def sibling_ids(self, conversation_id: UUID, parent_id: UUID | None) -> list[UUID]:
        if parent_id is None:
            result = await self._conn.execute(_ROOTS, {"conversation_id": conversation_id})
        else:
            params = {"conversation_id": conversation_id, "parent_id": parent_id}
            result = await self._conn.execute(_CHILDREN, params)
        return list(result.scalars())
