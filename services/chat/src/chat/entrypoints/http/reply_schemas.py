"""Bodies of posting, editing, regenerating and stopping, and the frames a reply streams in.

The frames are the seed's (``chunk``/``done``/``error``) with a ``seq``: the same JSON travels
in WebSocket text frames and as SSE ``data:`` (the SSE ``id`` is the ``seq``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from chat.application.ports.replies import ReplyChunk, ReplyDone, ReplyFrame
from chat.application.replies import Started
from chat.domain.messages import Message
from shared.http.problems import Problem

CONTENT_MAX = 200_000
"""The schema's bound; the setting ``chat.max_message_chars`` (≤ 200,000) is the one enforced."""
ATTACHMENTS_MAX = 10
CONTENT_PATTERN = "^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$"
"""Some character that is not whitespace (the domain's rule: Python's ``re`` reads ``\\s`` as
``str.isspace``, as ``str.strip`` does), and no NUL (refused anywhere in a request)."""
MESSAGE_BODY_LIMIT = 12 * (CONTENT_MAX + 40 * (ATTACHMENTS_MAX + 1)) + 4096
"""Bytes of the longest valid posting or edit (each character a JSON-escaped surrogate pair, 12
bytes): a message within the documented length is never refused as too large (413)."""

Content = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=CONTENT_MAX,
        pattern=CONTENT_PATTERN,
        description="The message's text, not only whitespace; at most the `chat.max_message_chars` "
        "setting (32,000 by default).",
    ),
]


class PostMessageRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    content: Content
    parent_id: Annotated[
        UUID | None,
        msgspec.Meta(
            description="The assistant reply this message answers (to branch from an earlier reply); "
            "null: the conversation's selected branch."
        ),
    ] = None
    attachment_ids: Annotated[
        list[UUID],
        msgspec.Meta(max_length=ATTACHMENTS_MAX, description="My uploaded, not yet attached attachments."),
    ] = msgspec.field(default_factory=list)


class EditMessageRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    content: Content


class ReplyResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    conversation_id: UUID
    parent_id: UUID | None
    status: Literal["pending", "streaming", "completed", "stopped", "failed"]
    content: Annotated[str, msgspec.Meta(description="Empty while pending; partial while streaming.")]
    model_id: UUID | None
    prompt_tokens: int
    completion_tokens: int
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, message: Message) -> ReplyResponse:
        return cls(
            id=message.id,
            conversation_id=message.conversation_id,
            parent_id=message.parent_id,
            status=message.status,
            content=message.content,
            model_id=message.model_id,
            prompt_tokens=message.usage.prompt_tokens,
            completion_tokens=message.usage.completion_tokens,
            created_at=message.created_at,
            finished_at=message.finished_at,
        )


class StartedResponse(msgspec.Struct, frozen=True, kw_only=True):
    """A reply is being written: follow it over SSE (`stream_url`) or the conversation's WebSocket."""

    conversation_id: UUID
    user_message_id: Annotated[
        UUID | None, msgspec.Meta(description="The message posted or the edit (null on a regenerate).")
    ]
    reply: ReplyResponse
    stream_url: Annotated[
        str, msgspec.Meta(description="`GET` it for the reply's frames as server-sent events.")
    ]

    @classmethod
    def of(cls, started: Started) -> StartedResponse:
        return cls(
            conversation_id=started.conversation.id,
            user_message_id=None if started.user_message is None else started.user_message.id,
            reply=ReplyResponse.of(started.reply),
            stream_url=f"/api/v1/messages/{started.reply.id}/stream",
        )


# -- frames -------------------------------------------------------------------------------


class UsageFrame(msgspec.Struct, frozen=True):
    prompt_tokens: int
    completion_tokens: int


class ChunkFrame(msgspec.Struct, frozen=True, kw_only=True, tag="chunk"):
    conversation_id: UUID
    message_id: UUID
    seq: int
    data: str
    whole: bool = False
    """``data`` is the whole reply up to ``seq``: replace what you hold (a resume served from storage)."""


class DoneFrame(msgspec.Struct, frozen=True, kw_only=True, tag="done"):
    conversation_id: UUID
    message_id: UUID
    seq: int
    status: Literal["completed", "stopped"]
    usage: UsageFrame


class ErrorFrame(msgspec.Struct, frozen=True, kw_only=True, tag="error"):
    conversation_id: UUID | None = None
    message_id: UUID | None = None
    seq: int | None = None
    problem: Problem


class AcceptedFrame(msgspec.Struct, frozen=True, kw_only=True, tag="accepted"):
    """A message sent over the socket was stored: its reply's frames follow."""

    conversation_id: UUID
    user_message_id: UUID | None
    message_id: UUID


class PongFrame(msgspec.Struct, frozen=True, kw_only=True, tag="pong"):
    pass


ServerFrame = ChunkFrame | DoneFrame | ErrorFrame | AcceptedFrame | PongFrame


def wire(frame: ReplyFrame) -> ChunkFrame | DoneFrame | ErrorFrame:
    conversation_id, message_id, seq = frame.conversation_id, frame.message_id, frame.seq
    if isinstance(frame, ReplyChunk):
        return ChunkFrame(
            conversation_id=conversation_id,
            message_id=message_id,
            seq=seq,
            data=frame.data,
            whole=frame.whole,
        )
    if isinstance(frame, ReplyDone):
        return DoneFrame(
            conversation_id=conversation_id,
            message_id=message_id,
            seq=seq,
            status="stopped" if frame.status == "stopped" else "completed",
            usage=UsageFrame(frame.usage.prompt_tokens, frame.usage.completion_tokens),
        )
    return ErrorFrame(
        conversation_id=conversation_id,
        message_id=message_id,
        seq=seq,
        problem=Problem(title="Reply failed", status=502, detail=frame.detail),
    )


# -- what a client sends over the WebSocket --------------------------------------------------


class AuthRequest(msgspec.Struct, frozen=True, kw_only=True, tag="auth", forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=8192)]


class MessageRequest(msgspec.Struct, frozen=True, kw_only=True, tag="message", forbid_unknown_fields=True):
    content: Content
    parent_id: UUID | None = None
    attachment_ids: Annotated[list[UUID], msgspec.Meta(max_length=ATTACHMENTS_MAX)] = msgspec.field(
        default_factory=list
    )


class SubscribeRequest(
    msgspec.Struct, frozen=True, kw_only=True, tag="subscribe", forbid_unknown_fields=True
):
    message_id: UUID
    after: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] = 0


class StopRequest(msgspec.Struct, frozen=True, kw_only=True, tag="stop", forbid_unknown_fields=True):
    message_id: UUID


class PingRequest(msgspec.Struct, frozen=True, kw_only=True, tag="ping", forbid_unknown_fields=True):
    pass


ClientFrame = AuthRequest | MessageRequest | SubscribeRequest | StopRequest | PingRequest
