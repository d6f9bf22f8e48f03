"""The bare streaming server ``make bench``'s streams step measures chat's sockets against.

The floor of the machine: what one Python process can do with 500 sockets at the same pace, with
nothing of chat's own work. It serves ``/ws`` (any path, as a raw ASGI app on the same server
as chat: uvicorn, uvloop, the same WebSocket implementation, no compression). On each client
frame (``{"type": "message", "content": ...}``) it answers ``accepted``, then streams the offline
model's reply to that content (``shared.ai.offline``, at the pace and the length chat's bench
sets) as the same ``chunk`` frames, each its JSON from chat's own wire structs
(``chat.entrypoints.http.reply_schemas.wire``), then ``done``. What it leaves out: the token,
the database (no post, no checkpoint, no reply's end), the reply channel and its NATS copy,
Litestar, and the resume bookkeeping.

    BARE_PORT=PORT CHAT_OFFLINE_PACE_MS=20 CHAT_OFFLINE_MIN_REPLY_TOKENS=400 \\
        .venv/bin/python deploy/bench/bare_streams.py
"""

from __future__ import annotations

import asyncio
import os
from typing import Any, Final

import msgspec
from bare_serving import serve

from chat.application.ports.replies import ReplyChunk, ReplyDone
from chat.entrypoints.http.reply_schemas import AcceptedFrame, wire
from shared.ai.offline import OfflineModel
from shared.kernel.ai import ChatMessage, ChatRequest, Usage
from shared.kernel.ids import new_id

SUBPROTOCOL: Final = "aiorch.v1"

_encoder = msgspec.json.Encoder()
_messages = msgspec.json.Decoder(dict[str, Any])


def _text(frame: msgspec.Struct) -> dict[str, Any]:
    return {"type": "websocket.send", "bytes": None, "text": _encoder.encode(frame).decode()}


class BareStreams:
    """The ASGI app: a socket, and a reply streamed for each message sent on it."""

    def __init__(self, model: OfflineModel) -> None:
        self.model = model

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "websocket":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await receive()  # websocket.connect
        await send({"type": "websocket.accept", "subprotocol": SUBPROTOCOL})
        conversation_id = new_id()
        replies: set[asyncio.Task[None]] = set()
        try:
            while (event := await receive())["type"] == "websocket.receive":
                content = str(_messages.decode(event.get("text") or "{}").get("content", ""))
                reply = asyncio.create_task(self.reply(send, conversation_id, content))
                replies.add(reply)
                reply.add_done_callback(replies.discard)
        finally:
            for reply in replies:
                reply.cancel()

    async def reply(self, send: Any, conversation_id: Any, content: str) -> None:
        message_id = new_id()
        await send(
            _text(
                AcceptedFrame(
                    conversation_id=conversation_id, user_message_id=new_id(), message_id=message_id
                )
            )
        )
        request = ChatRequest(model="offline", messages=[ChatMessage(role="user", content=content)])
        seq, usage = 0, Usage()
        async for chunk in self.model.stream(request):
            if chunk.delta:
                seq += 1
                frame = ReplyChunk(
                    message_id=message_id, conversation_id=conversation_id, seq=seq, data=chunk.delta
                )
                await send(_text(wire(frame)))
            if chunk.usage is not None:
                usage = chunk.usage
        done = ReplyDone(
            message_id=message_id,
            conversation_id=conversation_id,
            seq=seq + 1,
            status="completed",
            usage=usage,
        )
        await send(_text(wire(done)))


def create_app() -> BareStreams:
    return BareStreams(
        OfflineModel(
            pace_s=int(os.environ.get("CHAT_OFFLINE_PACE_MS", "20")) / 1000,
            min_prose_tokens=int(os.environ.get("CHAT_OFFLINE_MIN_REPLY_TOKENS", "0")),
        )
    )


def main() -> None:
    serve("bare_streams:create_app", required=("BARE_PORT",), default_workers=1, ws_per_message_deflate=False)


if __name__ == "__main__":
    main()
