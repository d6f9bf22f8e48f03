"""``GET /messages/{id}/stream``: a reply's frames as server-sent events, resumable.

Each event's name is the frame's type (``chunk``, ``done``, ``error``), its ``id`` the frame's
``seq`` and its data the frame's JSON (as on the WebSocket). A browser's EventSource resumes
with ``Last-Event-ID`` and gets exactly the frames it missed; after the reply finished, the
stream answers with the reply (its frames, or the stored whole) and ends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Final

import msgspec
from litestar import get
from litestar.openapi.spec import OpenAPIType
from litestar.params import HeaderParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from chat.application.reply_streams import open_reply_stream
from chat.entrypoints.http.openapi import problems
from chat.entrypoints.http.parameters import MessageId
from chat.entrypoints.http.reply_dependencies import ReplyChannelDep, UnitsOfWorkDep
from chat.entrypoints.http.reply_schemas import ChunkFrame, DoneFrame, ErrorFrame, wire
from shared.auth import BEARER_SECURITY, CurrentPrincipal

RETRY_MS: Final = 1000
STREAM_HEADERS: Final = {
    # proxies must neither buffer nor transform the stream (nginx reads X-Accel-Buffering)
    "Cache-Control": "no-cache, no-transform",
    "X-Accel-Buffering": "no",
}
_encoder = msgspec.json.Encoder()
_EVENTS: Final = {ChunkFrame: "chunk", DoneFrame: "done", ErrorFrame: "error"}


@get(
    "/api/v1/messages/{message_id:uuid}/stream",
    operation_id="stream_reply",
    summary="Follow a reply as server-sent events",
    tags=["messages"],
    security=BEARER_SECURITY,
    responses=problems(400, 401, 404),
    media_type="text/event-stream",
)
async def stream_reply(
    message_id: MessageId,
    principal: CurrentPrincipal,
    replies: ReplyChannelDep,
    units: UnitsOfWorkDep,
    last_event_id: Annotated[
        str | None,
        HeaderParameter(
            name="Last-Event-ID",
            pattern="^[0-9]{1,7}$",
            schema_extra={"oneOf": None, "type": OpenAPIType.STRING},
            description="Resume after this frame's `seq` (what EventSource sends on reconnect).",
        ),
    ] = None,
) -> ServerSentEvent:
    """A `text/event-stream` of my reply's frames: `chunk` (text, numbered by `seq`), then one
    `done` (with token usage) or `error` (a problem). Reconnect with `Last-Event-ID` to get the
    frames missed since; a finished reply is answered whole. Comment lines keep a quiet stream open."""
    stream = await open_reply_stream(message_id, principal.user_id, units, replies)
    after = 0 if last_event_id is None else int(last_event_id)

    async def events() -> AsyncIterator[ServerSentEventMessage]:
        yield ServerSentEventMessage(data=None, comment="reply", retry=RETRY_MS)
        async for frame in stream.frames(after):
            if frame is None:
                yield ServerSentEventMessage(data=None, comment="keep-alive")
                continue
            body = wire(frame)
            yield ServerSentEventMessage(
                id=str(frame.seq), event=_EVENTS[type(body)], data=_encoder.encode(body).decode()
            )

    return ServerSentEvent(events(), headers=STREAM_HEADERS)
