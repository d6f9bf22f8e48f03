"""Posting a message, editing one, regenerating and stopping a reply.

Each answers at once (202) with the pending reply; the reply is written in the background by
the service (it goes on if the client leaves) and followed over SSE or the WebSocket.
"""

from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody

from chat.application.replies import EditMessage, PostMessage, edit_message, post_message, regenerate_reply
from chat.entrypoints.http.dependencies import UnitOfWorkDep
from chat.entrypoints.http.openapi import problems
from chat.entrypoints.http.parameters import ConversationId, MessageId
from chat.entrypoints.http.reply_dependencies import GeneratorDep
from chat.entrypoints.http.reply_schemas import (
    MESSAGE_BODY_LIMIT,
    EditMessageRequest,
    PostMessageRequest,
    ReplyResponse,
    StartedResponse,
)
from shared.auth import BEARER_SECURITY, CurrentPrincipal
from shared.kernel.clock import SystemClock

_CLOCK = SystemClock()


class MessagePosting:
    """``POST /conversations/{id}/messages``, mixed into the controller that reads them (one
    route per path: Litestar gives each its OPTIONS handler)."""

    @post(
        "/messages",
        operation_id="post_message",
        summary="Send a message; the assistant's reply starts",
        status_code=202,
        responses=problems(400, 401, 404, 409, 413, 422, 429),
        request_max_body_size=MESSAGE_BODY_LIMIT,
    )
    async def post_message(
        self,
        conversation_id: ConversationId,
        data: JSONBody[PostMessageRequest],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        generator: GeneratorDep,
    ) -> StartedResponse:
        """Stores the message under the selected branch (or `parent_id`) and a pending reply, and
        starts writing the reply in the service. Follow it at `stream_url` (SSE) or over the
        conversation's WebSocket. Refused with 429 (and `Retry-After`) when my message or token
        budget of the window is spent, with 409 while the branch's last reply is still being written."""
        started = await post_message(
            PostMessage(
                conversation_id=conversation_id,
                owner_id=principal.user_id,
                content=data.content,
                parent_id=data.parent_id,
                attachment_ids=tuple(data.attachment_ids),
            ),
            uow,
            clock=_CLOCK,
        )
        generator.start(started.conversation, started.reply, started.branch)
        return StartedResponse.of(started)


class MessageRepliesController(Controller):
    path = "/api/v1/messages/{message_id:uuid}"
    tags = ["messages"]
    security = BEARER_SECURITY

    @post(
        "/edit",
        operation_id="edit_message",
        summary="Edit a message: a new branch and its reply",
        status_code=202,
        responses=problems(400, 401, 404, 409, 413, 422, 429),
        request_max_body_size=MESSAGE_BODY_LIMIT,
    )
    async def edit(
        self,
        message_id: MessageId,
        data: JSONBody[EditMessageRequest],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        generator: GeneratorDep,
    ) -> StartedResponse:
        """Adds the new text beside my message (same place in the tree) and a reply to it, and
        selects that branch; the original and its replies stay reachable as siblings."""
        started = await edit_message(
            EditMessage(message_id=message_id, owner_id=principal.user_id, content=data.content),
            uow,
            clock=_CLOCK,
        )
        generator.start(started.conversation, started.reply, started.branch)
        return StartedResponse.of(started)

    @post(
        "/regenerate",
        operation_id="regenerate_reply",
        summary="Write a reply again",
        status_code=202,
        responses=problems(400, 401, 404, 409, 413, 429),
    )
    async def regenerate(
        self, message_id: MessageId, principal: CurrentPrincipal, uow: UnitOfWorkDep, generator: GeneratorDep
    ) -> StartedResponse:
        """A new reply beside a finished one (completed, stopped or failed), selected; the
        earlier one stays as a sibling. 409 while it is still being written."""
        started = await regenerate_reply(message_id, principal.user_id, uow, clock=_CLOCK)
        generator.start(started.conversation, started.reply, started.branch)
        return StartedResponse.of(started)

    @post(
        "/stop",
        operation_id="stop_reply",
        summary="Stop a reply being written",
        status_code=200,
        responses=problems(400, 401, 404, 413),
    )
    async def stop(
        self, message_id: MessageId, principal: CurrentPrincipal, generator: GeneratorDep
    ) -> ReplyResponse:
        """Ends the generation wherever it runs (the model's request is closed) and keeps the
        partial content as `stopped`. A reply already finished is answered as it is."""
        return ReplyResponse.of(await generator.stop(message_id, principal.user_id))
