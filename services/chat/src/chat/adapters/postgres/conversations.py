"""Conversations and messages in PostgreSQL (SQLAlchemy Core; rows mapped explicitly)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from chat.adapters.postgres.tables import conversations, messages
from chat.domain.conversations import Conversation, TitleSource
from chat.domain.events import Recorded
from chat.domain.messages import IN_FLIGHT, Message, MessageStatus, Sender
from shared.kernel.aggregate import Seen
from shared.kernel.ai import Usage

# generated columns (search) are neither read back nor written
_CONVERSATION_COLUMNS = tuple(c for c in conversations.c if c.computed is None)
_CONVERSATION = sa.select(*_CONVERSATION_COLUMNS).where(
    conversations.c.id == sa.bindparam("id"), conversations.c.owner_id == sa.bindparam("owner_id")
)
_CONVERSATION_FOR_UPDATE = _CONVERSATION.with_for_update()
_INSERT_CONVERSATION = conversations.insert()
_UPDATE_CONVERSATION = (
    conversations.update()
    .where(conversations.c.id == sa.bindparam("key"))
    .values(
        {
            c.name: sa.bindparam(c.name)
            for c in _CONVERSATION_COLUMNS
            if c.name not in ("id", "owner_id", "created_at")
        }
    )
)
_DELETE_CONVERSATION = conversations.delete().where(conversations.c.id == sa.bindparam("id"))
_DELETE_OWNED = conversations.delete().where(conversations.c.owner_id == sa.bindparam("owner_id"))

_MESSAGE_COLUMNS = tuple(c for c in messages.c if c.computed is None)
_MESSAGE = sa.select(*_MESSAGE_COLUMNS).where(
    messages.c.id == sa.bindparam("id"), messages.c.owner_id == sa.bindparam("owner_id")
)
_MESSAGE_FOR_UPDATE = _MESSAGE.with_for_update()
# messages_conversation_id_idx; ids are UUIDv7, so this is also oldest first
_OF_CONVERSATION = (
    sa.select(*_MESSAGE_COLUMNS)
    .where(messages.c.conversation_id == sa.bindparam("conversation_id"))
    .order_by(messages.c.id)
)
_INSERT_MESSAGE = messages.insert()
# a message's place in the tree (conversation, owner, parent, sender) never changes
_UPDATE_MESSAGE = (
    messages.update()
    .where(messages.c.id == sa.bindparam("key"))
    .values(
        {
            name: sa.bindparam(name)
            for name in (
                "content",
                "status",
                "model_id",
                "metadata",
                "prompt_tokens",
                "completion_tokens",
                "finished_at",
            )
        }
    )
)

# a reply this process wrote is finished from what it holds: no read of the row first
# status = ANY(array), not IN (list): an IN of literals is an "expanding" parameter SQLAlchemy
# renders into the statement at every execution
_FINISH_MESSAGE = _UPDATE_MESSAGE.where(
    messages.c.status == sa.any_(sa.literal(sorted(IN_FLIGHT), ARRAY(sa.Text)))
).returning(messages.c.id)


def _changed_values(message: Message) -> dict[str, Any]:
    """A message's values for an update: its place in the tree never changes."""
    values = _message_values(message)
    values["key"] = values.pop("id")
    for fixed in ("conversation_id", "owner_id", "parent_id", "sender", "created_at"):
        del values[fixed]
    return values


def conversation_from_row(row: Mapping[Any, Any]) -> Conversation:
    return Conversation(
        id=row["id"],
        owner_id=row["owner_id"],
        title=row["title"],
        title_source=cast(TitleSource, row["title_source"]),
        model_id=row["model_id"],
        project_id=row["project_id"],
        task_id=row["task_id"],
        pinned=row["pinned"],
        archived=row["archived"],
        messages_count=row["messages_count"],
        selected_leaf_id=row["selected_leaf_id"],
        created_at=row["created_at"],
        last_activity_at=row["last_activity_at"],
    )


def message_from_row(row: Mapping[Any, Any]) -> Message:
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        owner_id=row["owner_id"],
        parent_id=row["parent_id"],
        sender=cast(Sender, row["sender"]),
        content=row["content"],
        status=cast(MessageStatus, row["status"]),
        model_id=row["model_id"],
        metadata=dict(row["metadata"]),
        usage=Usage(prompt_tokens=row["prompt_tokens"], completion_tokens=row["completion_tokens"]),
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )


def _conversation_values(conversation: Conversation) -> dict[str, Any]:
    return {c.name: getattr(conversation, c.name) for c in _CONVERSATION_COLUMNS}


def _message_values(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "owner_id": message.owner_id,
        "parent_id": message.parent_id,
        "sender": message.sender,
        "content": message.content,
        "status": message.status,
        "model_id": message.model_id,
        "metadata": message.metadata,
        "prompt_tokens": message.usage.prompt_tokens,
        "completion_tokens": message.usage.completion_tokens,
        "created_at": message.created_at,
        "finished_at": message.finished_at,
    }


class SqlAlchemyConversationRepository:
    """Every conversation it loads or adds joins ``seen``: its events go out on commit."""

    def __init__(self, conn: AsyncConnection, seen: Seen[Recorded]) -> None:
        self._conn = conn
        self._seen = seen

    async def get(
        self, conversation_id: UUID, owner_id: UUID, *, for_update: bool = False
    ) -> Conversation | None:
        statement = _CONVERSATION_FOR_UPDATE if for_update else _CONVERSATION
        params = {"id": conversation_id, "owner_id": owner_id}
        row = (await self._conn.execute(statement, params)).first()
        if row is None:
            return None
        conversation = conversation_from_row(row._mapping)
        self._seen.add(conversation)
        return conversation

    async def add(self, conversation: Conversation) -> None:
        await self._conn.execute(_INSERT_CONVERSATION, _conversation_values(conversation))
        self._seen.add(conversation)

    async def update(self, conversation: Conversation) -> None:
        values = _conversation_values(conversation)
        values["key"] = values.pop("id")
        await self._conn.execute(_UPDATE_CONVERSATION, values)

    async def delete(self, conversation_id: UUID) -> None:
        await self._conn.execute(_DELETE_CONVERSATION, {"id": conversation_id})

    async def delete_owned_by(self, owner_id: UUID) -> int:
        return (await self._conn.execute(_DELETE_OWNED, {"owner_id": owner_id})).rowcount


class SqlAlchemyMessageRepository:
    """Every message it loads or adds joins ``seen``: a reply's ``MessageCompleted`` goes out on commit."""

    def __init__(self, conn: AsyncConnection, seen: Seen[Recorded]) -> None:
        self._conn = conn
        self._seen = seen

    async def get(self, message_id: UUID, owner_id: UUID, *, for_update: bool = False) -> Message | None:
        statement = _MESSAGE_FOR_UPDATE if for_update else _MESSAGE
        row = (await self._conn.execute(statement, {"id": message_id, "owner_id": owner_id})).first()
        if row is None:
            return None
        message = message_from_row(row._mapping)
        self._seen.add(message)
        return message

    async def of_conversation(self, conversation_id: UUID) -> Sequence[Message]:
        result = await self._conn.execute(_OF_CONVERSATION, {"conversation_id": conversation_id})
        loaded = [message_from_row(row._mapping) for row in result]
        for message in loaded:
            self._seen.add(message)
        return loaded

    async def add(self, message: Message) -> None:
        await self._conn.execute(_INSERT_MESSAGE, _message_values(message))
        self._seen.add(message)

    async def update(self, message: Message) -> None:
        await self._conn.execute(_UPDATE_MESSAGE, _changed_values(message))

    async def finish(self, reply: Message) -> bool:
        if (await self._conn.execute(_FINISH_MESSAGE, _changed_values(reply))).first() is None:
            return False
        self._seen.add(reply)
        return True
