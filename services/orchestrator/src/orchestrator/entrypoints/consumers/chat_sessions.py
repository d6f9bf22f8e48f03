"""The ``orchestrator.chat-sessions`` consumer: chat's ``chat.conversation.*`` → the projection.

The shared ``EventConsumer`` decodes the contract and records the inbox row in the
transaction the handler's unit of work joins, so a redelivered event changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from orchestrator import SERVICE
from orchestrator.application.chat_sessions import project_conversation
from orchestrator.application.ports import UnitOfWork
from orchestrator.domain.chat_sessions import ConversationChange
from shared.contracts import chat
from shared.messaging.consumer import ConsumerSpec

NAME = f"{SERVICE}.chat-sessions"


def change_of(event: chat.ConversationEvent) -> ConversationChange:
    return ConversationChange(
        conversation_id=event.conversation_id,
        owner_id=event.owner_id,
        title=event.title,
        project_id=event.project_id,
        task_id=event.task_id,
        created_at=event.created_at,
        updated_at=event.updated_at,
        deleted=isinstance(event, chat.ConversationDeleted),
    )


def chat_sessions(uow_on: Callable[[AsyncConnection], UnitOfWork]) -> ConsumerSpec:
    """The consumer spec ``ServiceRoot.consumers`` lists."""

    async def on_conversation(event: object, conn: AsyncConnection) -> None:
        if isinstance(event, chat.ConversationCreated | chat.ConversationUpdated | chat.ConversationDeleted):
            await project_conversation(change_of(event), uow_on(conn))
        # anything else on chat's stream (chat.user.erased) is not this consumer's business

    return ConsumerSpec(
        name=NAME,
        stream=chat.STREAM,
        subjects=(
            chat.ConversationCreated.subject,
            chat.ConversationUpdated.subject,
            chat.ConversationDeleted.subject,
        ),
        decoder=chat.decoder,
        handler=on_conversation,
    )
