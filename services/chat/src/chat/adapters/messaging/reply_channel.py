"""Reply frames over NATS: the ``ReplyChannel`` any API process (or replica) can serve from.

Design (issue 9): each reply's frames are published with a core NATS publish (no round trip
per token) on ``chat-replies.<message id>``, a subject the JetStream stream ``CHAT_REPLIES``
captures, by one task of the process that sends every queued frame in order (a generation
hands its frame over and goes on: one wake-up a turn of the event loop for all the replies'
frames, not an ``await`` of the client per frame). The stream is the bounded buffer: in
memory, each reply's frames kept 15 minutes and at most :data:`MAX_FRAMES` of them, the oldest
dropped past 256 MiB. A subscriber reads a reply through an ephemeral ordered consumer filtered
to its subject: stored frames first, then live ones, in order, with nothing to ack and nothing
left behind. A lost or expired frame is noticed by its ``seq`` and the stored reply stands in
(``chat.application.reply_streams``).

Stops go over core request/reply on ``chat-control.stop.<message id>``: every API process
listens, the one writing the reply stops it and answers.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final, Literal
from uuid import UUID

import msgspec
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout
from nats.js.api import ConsumerConfig, DeliverPolicy, StorageType
from nats.js.errors import NotFoundError

from chat.application.ports.replies import (
    FeedOverflow,
    FrameTaker,
    ReplyChunk,
    ReplyDone,
    ReplyError,
    ReplyFrame,
)
from shared.kernel.ai import Usage
from shared.messaging.streams import StreamSpec

STREAM: Final = "CHAT_REPLIES"
SUBJECT_PREFIX: Final = "chat-replies."
STOP_PREFIX: Final = "chat-control.stop."
MAX_FRAMES: Final = 50_000
"""Frames kept per reply (a reply of ``ai.max_output_tokens`` ≤ 32,768 chunks fits)."""
KEPT: Final = timedelta(minutes=15)
BACKLOG: Final = 10_000
"""Frames a subscriber may fall behind by before its feed ends (it resumes from its last seq)."""
STOP_WAIT_S: Final = 5.0
FLUSH_WAIT_S: Final = 5.0
"""How long a stopping process waits for its queued frames to reach the broker."""
LOCAL_KEEP_S: Final = 60.0
"""How long after its end a reply written here is still served from memory."""

_log = structlog.get_logger("chat.replies")


def reply_stream(replicas: int = 1) -> StreamSpec:
    return StreamSpec(
        name=STREAM,
        subjects=(f"{SUBJECT_PREFIX}>",),
        max_age_s=KEPT.total_seconds(),
        max_bytes=256 * 1024**2,
        duplicate_window_s=60.0,
        replicas=replicas,
        storage=StorageType.MEMORY,
        max_msgs_per_subject=MAX_FRAMES,
    )


class _Usage(msgspec.Struct, frozen=True):
    prompt_tokens: int = 0
    completion_tokens: int = 0


class _Chunk(msgspec.Struct, frozen=True, tag="chunk"):
    c: UUID
    s: int
    d: str
    w: bool = False


class _Done(msgspec.Struct, frozen=True, tag="done"):
    c: UUID
    s: int
    status: Literal["completed", "stopped", "failed"]
    usage: _Usage


class _Error(msgspec.Struct, frozen=True, tag="error"):
    c: UUID
    s: int
    detail: str


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_Chunk | _Done | _Error)


def encode(frame: ReplyFrame) -> bytes:
    if isinstance(frame, ReplyChunk):
        return _encoder.encode(_Chunk(c=frame.conversation_id, s=frame.seq, d=frame.data, w=frame.whole))
    if isinstance(frame, ReplyDone):
        usage = _Usage(frame.usage.prompt_tokens, frame.usage.completion_tokens)
        return _encoder.encode(_Done(c=frame.conversation_id, s=frame.seq, status=frame.status, usage=usage))
    return _encoder.encode(_Error(c=frame.conversation_id, s=frame.seq, detail=frame.detail))


def decode(message_id: UUID, data: bytes) -> ReplyFrame:
    wire = _decoder.decode(data)
    if isinstance(wire, _Chunk):
        return ReplyChunk(
            message_id=message_id, conversation_id=wire.c, seq=wire.s, data=wire.d, whole=wire.w
        )
    if isinstance(wire, _Done):
        usage = Usage(prompt_tokens=wire.usage.prompt_tokens, completion_tokens=wire.usage.completion_tokens)
        return ReplyDone(
            message_id=message_id, conversation_id=wire.c, seq=wire.s, status=wire.status, usage=usage
        )
    return ReplyError(message_id=message_id, conversation_id=wire.c, seq=wire.s, detail=wire.detail)


class _Feed:
    """One subscriber's frames: a deque its producer appends to and one waiter at a time.

    A subscriber that keeps up waits before every frame: its quiet timeout is one loop timer
    that outlives the waits (re-armed when it fires early, about once per ``quiet_s``), not a
    timer per wait (``asyncio.Queue`` with ``wait_for``, then ``asyncio.timeout``, then a timer
    per wait were each ~5-10% of the streams bench's API process). ``None`` in the deque: the
    subscriber fell :data:`BACKLOG` frames behind; nothing is added after it.

    A subscriber that can write a frame out at once hands over a taker (:meth:`hand_over`):
    while it waits on an empty feed, a frame goes to the taker in the producer's call, with no
    wake-up of the subscriber's task per frame (a third of the streams bench's work per frame)."""

    __slots__ = ("_ended", "_frames", "_quiet_s", "_since", "_take", "_timer", "_waiter")

    def __init__(self) -> None:
        self._frames: deque[ReplyFrame | None] = deque()
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        self._since = 0.0
        self._quiet_s = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._take: FrameTaker | None = None

    def hand_over(self, take: FrameTaker) -> None:
        self._take = take

    def put(self, frame: ReplyFrame) -> None:
        if self._ended:
            return
        waiter = self._waiter
        take = self._take
        if take is not None and waiter is not None and not waiter.done() and take(frame):
            # the waiting subscriber's frames were all handled: this one is in order; it was active
            self._since = waiter.get_loop().time()
            return
        if len(self._frames) >= BACKLOG:
            self._ended = True
            self._frames.append(None)  # too far behind: its feed ends
        else:
            self._frames.append(frame)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def next(self, quiet_s: float) -> ReplyFrame | None:
        if not self._frames:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            self._since, self._quiet_s = loop.time(), quiet_s
            due = self._since + quiet_s
            if self._timer is not None and self._timer.when() > due:  # a shorter wait than the armed one
                self._timer.cancel()
                self._timer = None
            if self._timer is None:
                self._timer = loop.call_at(due, self._quiet)
            try:
                await waiter
            finally:
                self._waiter = None
            if not self._frames:
                return None  # quiet
        frame = self._frames.popleft()
        if frame is None:
            raise FeedOverflow
        return frame

    def _quiet(self) -> None:
        self._timer = None
        waiter = self._waiter
        if waiter is None or waiter.done():
            return  # not waiting: the next wait arms it again
        loop = asyncio.get_running_loop()
        due = self._since + self._quiet_s
        if loop.time() >= due:
            waiter.set_result(None)
        else:  # armed for an earlier wait: this one started later
            self._timer = loop.call_at(due, self._quiet)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


@dataclass(slots=True)
class _Local:
    """A reply this process writes: its frames so far and the subscribers in this process."""

    subject: str
    frames: list[ReplyFrame] = field(default_factory=list)
    feeds: set[_Feed] = field(default_factory=set)

    def deliver(self, frame: ReplyFrame) -> None:
        self.frames.append(frame)
        for feed in self.feeds:
            feed.put(frame)


class NatsReplyChannel:
    """``ReplyChannel`` on the API process's NATS connection.

    A subscriber in the process that writes the reply is served from that process's memory
    (the frames it published, then live ones): the same frames in the same order, without a
    round trip through the broker and a consumer each. The reply is known here from the moment
    its generation starts (:meth:`begin`), so a subscriber that comes before the first frame
    (the poster's own socket, as a rule) is served from memory too; its frames are kept
    :data:`LOCAL_KEEP_S` after the generation ends (:meth:`end`); every other subscriber reads
    the stream.
    """

    def __init__(self, nc: Client) -> None:
        self._nc = nc
        self._js = nc.jetstream()
        self._local: dict[UUID, _Local] = {}
        self._outgoing: deque[tuple[str, bytes]] = deque()
        self._wake: asyncio.Future[None] | None = None
        self._sender: asyncio.Task[None] | None = None
        self._sending_one = False

    def begin(self, message_id: UUID) -> None:
        self._local.setdefault(message_id, _Local(subject=f"{SUBJECT_PREFIX}{message_id}"))

    def end(self, message_id: UUID) -> None:
        if message_id in self._local:
            asyncio.get_running_loop().call_later(LOCAL_KEEP_S, self._local.pop, message_id, None)

    def publish(self, frame: ReplyFrame) -> None:
        local = self._local.get(frame.message_id)
        if local is None:
            self._send(f"{SUBJECT_PREFIX}{frame.message_id}", encode(frame))
            return
        local.deliver(frame)
        self._send(local.subject, encode(frame))

    def _send(self, subject: str, payload: bytes) -> None:
        self._outgoing.append((subject, payload))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._sending(), name="reply-frames")
        elif self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def _sending(self) -> None:
        """Sends the queued frames in order; waits (no timer) while there are none."""
        loop = asyncio.get_running_loop()
        while True:
            while self._outgoing:
                subject, payload = self._outgoing.popleft()
                self._sending_one = True
                try:
                    await self._nc.publish(subject, payload)
                except Exception as exc:  # the broker away: subscribers fall back to the stored content
                    _log.warning("a reply frame was not published", subject=subject, error=str(exc))
                finally:
                    self._sending_one = False
            self._wake = loop.create_future()
            try:
                await self._wake
            finally:
                self._wake = None

    async def flush(self, within_s: float = FLUSH_WAIT_S) -> None:
        """Until every frame handed over is sent (or failed to be), for at most ``within_s``:
        before the process stops."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_s
        while (self._outgoing or self._sending_one) and self._sender is not None and not self._sender.done():
            if loop.time() >= deadline:
                _log.warning("stopping: reply frames not published", frames=len(self._outgoing))
                return
            await asyncio.sleep(0.001)

    @contextlib.asynccontextmanager
    async def follow(self, message_id: UUID) -> AsyncIterator[_Feed]:
        local = self._local.get(message_id)
        if local is not None:
            mine = _Feed()
            for frame in local.frames:
                mine.put(frame)
            local.feeds.add(mine)
            try:
                yield mine
            finally:
                local.feeds.discard(mine)
                mine.close()
            return
        feed = _Feed()

        async def on_message(msg: Msg) -> None:
            try:
                frame = decode(message_id, msg.data)
            except msgspec.DecodeError:
                _log.warning("undecodable reply frame", message_id=str(message_id))
                return
            feed.put(frame)

        subscription = await self._js.subscribe(
            f"{SUBJECT_PREFIX}{message_id}",
            stream=STREAM,
            cb=on_message,
            ordered_consumer=True,
            idle_heartbeat=5.0,
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        try:
            yield feed
        finally:
            feed.close()
            if not self._nc.is_closed:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()

    async def has_frames(self, message_id: UUID) -> bool:
        if message_id in self._local:
            return True
        try:
            await self._js.get_last_msg(STREAM, f"{SUBJECT_PREFIX}{message_id}")
        except NotFoundError:
            return False
        return True

    async def request_stop(self, message_id: UUID) -> bool:
        try:
            answer = await self._nc.request(f"{STOP_PREFIX}{message_id}", b"", timeout=STOP_WAIT_S)
        except (NoRespondersError, NatsTimeout):
            return False
        return answer.data == b"stopped"

    @contextlib.asynccontextmanager
    async def serve_stops(self, stop: Callable[[UUID], Awaitable[bool]]) -> AsyncIterator[None]:
        async def on_request(msg: Msg) -> None:
            try:
                message_id = UUID(msg.subject.removeprefix(STOP_PREFIX))
            except ValueError:
                return
            # only the process writing the reply answers; the others stay silent
            if await stop(message_id):
                await msg.respond(b"stopped")

        subscription = await self._nc.subscribe(f"{STOP_PREFIX}*", cb=on_request)
        try:
            yield
        finally:
            await self.flush()
            if self._sender is not None:
                self._sender.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._sender
            if not self._nc.is_closed:
                with contextlib.suppress(Exception):
                    await subscription.unsubscribe()
