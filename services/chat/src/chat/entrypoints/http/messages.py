"""Reading messages: a conversation's branch (the selected one or a given one), switching
branch, and one message. Posting, editing, regenerating and streaming are ``replies``'; posting
shares this controller's path, so it is mixed in here (Litestar gives each controller route its
own OPTIONS handler: two controllers on one path clash)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, get, post
from litestar.params import JSONBody, QueryParameter

from chat.application import conversations as use_cases
from chat.entrypoints.http.conversations import unusable_reference
from chat.entrypoints.http.dependencies import UnitOfWorkDep
from chat.entrypoints.http.message_schemas import BranchResponse, BranchSelect, MessageResponse
from chat.entrypoints.http.openapi import problems
from chat.entrypoints.http.parameters import ConversationId, MessageId
from chat.entrypoints.http.replies import MessagePosting
from shared.auth import BEARER_SECURITY, CurrentPrincipal


class ConversationMessagesController(MessagePosting, Controller):
    path = "/api/v1/conversations/{conversation_id:uuid}"
    tags = ["messages"]
    security = BEARER_SECURITY
    exception_handlers = {use_cases.UnusableReference: unusable_reference}

    @get(
        "/messages",
        operation_id="list_conversation_messages",
        summary="A branch of a conversation",
        responses=problems(400, 401, 404, 422),
    )
    async def read_branch(
        self,
        conversation_id: ConversationId,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        leaf_id: Annotated[
            UUID | None,
            QueryParameter(
                description="A message of this conversation: the branch through it, down to its "
                "newest leaf. Absent: the selected branch."
            ),
        ] = None,
    ) -> BranchResponse:
        """The messages from the first one down to the selected leaf (or through `leaf_id`), each
        with its siblings so a client can offer to switch. A `leaf_id` that is not in this
        conversation is refused with 422."""
        return BranchResponse.of(
            await use_cases.read_branch(principal.user_id, conversation_id, uow, through=leaf_id)
        )

    @post(
        "/select",
        operation_id="select_branch",
        summary="Switch branch",
        responses=problems(400, 401, 404, 413, 422),
        status_code=200,
    )
    async def select_branch(
        self,
        conversation_id: ConversationId,
        data: JSONBody[BranchSelect],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
    ) -> BranchResponse:
        """Remembers the branch through `leaf_id` (down to its newest leaf when it is not one) as
        the one shown, and answers it: the next reply continues it."""
        return BranchResponse.of(
            await use_cases.select_branch(principal.user_id, conversation_id, data.leaf_id, uow)
        )


class MessagesController(Controller):
    path = "/api/v1/messages"
    tags = ["messages"]
    security = BEARER_SECURITY

    @get(
        "/{message_id:uuid}",
        operation_id="get_message",
        summary="One of my messages",
        responses=problems(400, 401, 404),
    )
    async def get_message(
        self, message_id: MessageId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> MessageResponse:
        """The message as it is now (a reply in flight: its content so far), with its siblings."""
        return MessageResponse.of(await use_cases.get_message(principal.user_id, message_id, uow))
