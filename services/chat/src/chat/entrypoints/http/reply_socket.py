"""``/conversations/{id}/ws``: a conversation over a WebSocket, the seed's frames with a ``seq``.

The access token never travels in the URL: the client offers it as the subprotocol
``bearer.<token>`` (beside ``aiorch.v1``, which the server selects) or sends
``{"type": "auth", "token": ...}`` as its first frame (also later, to refresh it). Then:

* ``{"type": "message", "content": ..., "parent_id"?, "attachment_ids"?}`` posts a message
  (as ``POST /conversations/{id}/messages``): ``accepted`` comes back, then the reply's frames;
* ``{"type": "subscribe", "message_id": ..., "after": <seq>}`` follows a reply of this
  conversation from after ``seq`` (``0``: from the start): the frames missed, then the live rest;
* ``{"type": "stop", "message_id": ...}`` stops a reply; ``{"type": "ping"}`` answers ``pong``.

Server frames: ``chunk`` (``seq``, ``data``), ``done`` (status, usage), ``error`` (a problem;
the socket stays open unless the error is about the socket itself), ``accepted``, ``pong``.
Several replies may be followed at once; a reply goes on being written when the socket closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Callable
from typing import Annotated, Any, Final
from uuid import UUID

import msgspec
import structlog
from litestar import WebSocket, websocket
from litestar.exceptions import NotAuthorizedException, WebSocketDisconnect
from litestar.params import PathParameter
from litestar.types import WebSocketSendEvent

from chat.application.ports import UnitOfWork
from chat.application.ports.replies import ReplyFrame
from chat.application.replies import PostMessage, post_message
from chat.application.reply_streams import ReplyStream, open_reply_stream
from chat.domain.messages import Message
from chat.entrypoints.http.reply_dependencies import GeneratorDep, ReplyChannelDep, UnitsOfWorkDep
from chat.entrypoints.http.reply_schemas import (
    MESSAGE_BODY_LIMIT,
    AcceptedFrame,
    AuthRequest,
    ClientFrame,
    ErrorFrame,
    MessageRequest,
    PingRequest,
    PongFrame,
    ServerFrame,
    StopRequest,
    SubscribeRequest,
    wire,
)
from shared.auth import Principal, verify_token
from shared.http.problems import Problem, problem_of
from shared.http.socket_frames import server_send
from shared.kernel.clock import SystemClock
from shared.kernel.errors import NotFound

SUBPROTOCOL: Final = "aiorch.v1"
TOKEN_PREFIX: Final = "bearer."  # noqa: S105 (a prefix, not a secret)
AUTH_WAIT_S: Final = 10.0
MAX_FRAME_CHARS: Final = MESSAGE_BODY_LIMIT
"""The largest frame a client may send: what the REST post takes (the longest message, escaped)."""
TOKEN_CHECK_S: Final = 5.0
"""How often an open socket's token is checked again (expiry, revocation)."""
POLICY_VIOLATION: Final = 1008
"""The close code for a socket refused (no or a bad token, not my conversation)."""

_encoder = msgspec.json.Encoder()
_client_frames = msgspec.json.Decoder(ClientFrame)
_CLOCK = SystemClock()
_log = structlog.get_logger("chat.sockets")


def _event(frame: ServerFrame) -> WebSocketSendEvent:
    """The ASGI event of a frame, for the socket's send (``send_text`` builds the same, two calls deeper)."""
    return {"type": "websocket.send", "bytes": None, "text": _encoder.encode(frame).decode()}


@websocket("/api/v1/conversations/{conversation_id:uuid}/ws")
async def conversation_socket(
    socket: WebSocket[Any, Any, Any],
    conversation_id: Annotated[UUID, PathParameter(description="One of my conversations, by its `id`.")],
    units: UnitsOfWorkDep,
    generator: GeneratorDep,
    replies: ReplyChannelDep,
) -> None:
    offered: list[str] = list(socket.scope.get("subprotocols") or [])
    token = next((p.removeprefix(TOKEN_PREFIX) for p in offered if p.startswith(TOKEN_PREFIX)), None)
    await socket.accept(subprotocols=SUBPROTOCOL if SUBPROTOCOL in offered else None)
    session = _Session(socket, conversation_id, units, replies)
    try:
        principal = await session.authenticate(token)
        if principal is None:
            return
        async with units() as uow:
            mine = await uow.conversations.get(conversation_id, principal.user_id)
        if mine is None:
            await session.refuse(NotFound(f"conversation {conversation_id} not found"))
            return
        await session.serve(principal, generator)
    except WebSocketDisconnect:
        pass
    finally:
        await session.close()


class _Session:
    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        conversation_id: UUID,
        units: Callable[[], UnitOfWork],
        replies: ReplyChannelDep,
    ) -> None:
        self.socket = socket
        # frames go to the server's send (shared.http.socket_frames); with no lock: a frame is
        # written whole by one call (the server's send waits, if ever, only before writing)
        self.frames_out = server_send(socket.scope) or socket.send
        self.conversation_id = conversation_id
        self.units = units
        self.replies = replies
        self.follows: dict[UUID, asyncio.Task[None]] = {}
        self.token = ""
        self.watch: asyncio.Task[None] | None = None

    async def send(self, frame: ServerFrame) -> None:
        try:
            await self.frames_out(_event(frame))
        except OSError as exc:  # the server's own send, on a socket its client left
            raise WebSocketDisconnect(detail="the client went") from exc

    def write_now(self, frame: ReplyFrame) -> bool:
        """The reply's frame written in this call, if the socket takes it without waiting
        (``False``: it would have waited for the socket to drain; nothing was written).

        Why by hand: the server's ``send`` writes a frame whole in one call and waits only
        before it, when the socket is paused; stepping it once here is what Python 3.12's eager
        tasks do, and saves the follower's task a wake-up per frame."""
        sending = self.frames_out(_event(wire(frame)))
        if not inspect.iscoroutine(sending):
            return False
        try:
            sending.send(None)
        except StopIteration:
            return True
        except Exception:  # closed: the follower's own send meets it and ends
            return False
        sending.close()  # it waits for the socket to drain, before writing anything
        return False

    async def refuse(self, exc: Exception) -> None:
        with contextlib.suppress(Exception):
            await self.send(ErrorFrame(conversation_id=self.conversation_id, problem=problem_of(exc)))
            await self.socket.close(code=POLICY_VIOLATION, reason=type(exc).__name__[:100])

    async def authenticate(self, token: str | None) -> Principal | None:
        if token is None:
            try:
                raw = await asyncio.wait_for(self.socket.receive_text(), AUTH_WAIT_S)
                first = _client_frames.decode(raw)
            except (TimeoutError, msgspec.DecodeError, msgspec.ValidationError):
                first = None
            if not isinstance(first, AuthRequest):
                missing = NotAuthorizedException(detail="Send an auth frame with an access token first.")
                await self.refuse(missing)
                return None
            token = first.token
        try:
            principal = await verify_token(self.socket, token)
        except Exception as exc:
            await self.refuse(exc)
            return None
        self.token = token
        return principal

    async def serve(self, principal: Principal, generator: GeneratorDep) -> None:
        self.watch = asyncio.create_task(self._watch_token())
        while True:
            raw = await self.socket.receive_text()
            if len(raw) > MAX_FRAME_CHARS:
                too_large = Problem(title="Payload too large", status=413, detail="frame too large")
                await self.error(None, too_large)
                continue
            try:
                request = _client_frames.decode(raw)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                await self.error(None, problem_of(exc))
                continue
            try:
                principal = await self.handle(request, principal, generator)
            except Exception as exc:
                message_id = getattr(request, "message_id", None)
                await self.error(message_id, problem_of(exc))

    async def handle(self, request: ClientFrame, principal: Principal, generator: GeneratorDep) -> Principal:
        if isinstance(request, MessageRequest):
            started = await post_message(
                PostMessage(
                    conversation_id=self.conversation_id,
                    owner_id=principal.user_id,
                    content=request.content,
                    parent_id=request.parent_id,
                    attachment_ids=tuple(request.attachment_ids),
                ),
                self.units(),
                clock=_CLOCK,
            )
            generator.start(started.conversation, started.reply, started.branch)
            user_message_id = None if started.user_message is None else started.user_message.id
            await self.send(
                AcceptedFrame(
                    conversation_id=self.conversation_id,
                    user_message_id=user_message_id,
                    message_id=started.reply.id,
                )
            )
            self.follow(started.reply.id, 0, principal, known=started.reply)
        elif isinstance(request, SubscribeRequest):
            self.follow(request.message_id, request.after, principal)
        elif isinstance(request, StopRequest):
            await self._own_reply(request.message_id, principal)
            await generator.stop(request.message_id, principal.user_id)
        elif isinstance(request, PingRequest):
            await self.send(PongFrame())
        else:  # a fresh token for a long-lived socket: the same user only
            renewed = await verify_token(self.socket, request.token)
            if renewed.user_id != principal.user_id:
                raise NotAuthorizedException(detail="The token is another user's.")
            principal, self.token = renewed, request.token
        return principal

    def follow(
        self, message_id: UUID, after: int, principal: Principal, known: Message | None = None
    ) -> None:
        """``known``: the reply as this socket just posted it (nothing to read back to check it)."""
        previous = self.follows.pop(message_id, None)
        if previous is not None:
            previous.cancel()
        self.follows[message_id] = asyncio.create_task(self._follow(message_id, after, principal, known))

    async def _follow(
        self, message_id: UUID, after: int, principal: Principal, known: Message | None
    ) -> None:
        try:
            if known is not None:
                stream = ReplyStream(message=known, uow=self.units, channel=self.replies)
            else:
                stream = await open_reply_stream(message_id, principal.user_id, self.units, self.replies)
            if stream.message.conversation_id != self.conversation_id:
                raise NotFound(f"reply {message_id} not found")
            async for frame in stream.frames(after, write_now=self.write_now):
                if frame is not None:
                    await self.send(wire(frame))
        except asyncio.CancelledError:
            raise
        except WebSocketDisconnect:
            return
        except Exception as exc:
            problem = problem_of(exc)
            if problem.status >= 500:  # not the client's doing: said here too, not only to it
                _log.exception("following a reply failed", message_id=str(message_id))
            with contextlib.suppress(Exception):
                await self.error(message_id, problem)

    async def _own_reply(self, message_id: UUID, principal: Principal) -> None:
        async with self.units() as uow:
            message = await uow.messages.get(message_id, principal.user_id)
        if message is None or message.conversation_id != self.conversation_id:
            raise NotFound(f"reply {message_id} not found")

    async def error(self, message_id: UUID | None, problem: Problem) -> None:
        frame = ErrorFrame(conversation_id=self.conversation_id, message_id=message_id, problem=problem)
        await self.send(frame)

    async def _watch_token(self) -> None:
        """A socket lives as long as its token: an expired one (not refreshed by an ``auth``
        frame) or a revoked session (a logout, a role change) closes it, as it would refuse a request."""
        while True:
            await asyncio.sleep(TOKEN_CHECK_S)
            try:
                await verify_token(self.socket, self.token)
            except Exception as exc:
                await self.refuse(exc)
                return

    async def close(self) -> None:
        tasks = [*self.follows.values(), *([self.watch] if self.watch else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
