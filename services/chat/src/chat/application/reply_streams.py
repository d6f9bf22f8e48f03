"""Following a reply: the frames a subscriber missed, then the live rest, from any process.

A subscriber says the last ``seq`` it holds (``0``: none). Frames come from the reply channel,
which keeps them for a while; when it no longer does (or lost some), the stored reply stands in:
one chunk with the whole content (``whole``), then the terminal frame. After the reply finished
the stream ends with its terminal frame; while it is being written, quiet stretches are
reported (``None``) so the transport can keep the connection alive, and the stored state is
checked now and then in case the terminal frame never comes (the broker was away).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Final
from uuid import UUID

from chat.application.generator import FRAMES_KEY
from chat.application.ports import UnitOfWork
from chat.application.ports.replies import (
    TERMINAL,
    FeedOverflow,
    FrameTaker,
    ReplyChannel,
    ReplyChunk,
    ReplyDone,
    ReplyError,
    ReplyFrame,
)
from chat.domain.messages import Message
from shared.kernel.errors import NotFound

QUIET_S: Final = 15.0
"""How long a live stream may be silent before the transport is told (a keep-alive)."""
RECHECK_S: Final = 10.0
"""How often a silent in-flight reply's stored state is looked at."""


@dataclass(slots=True)
class ReplyStream:
    message: Message
    uow: Callable[[], UnitOfWork]
    channel: ReplyChannel
    quiet_s: float = QUIET_S
    recheck_s: float = RECHECK_S

    async def frames(
        self, after: int = 0, write_now: FrameTaker | None = None
    ) -> AsyncIterator[ReplyFrame | None]:
        """The frames after ``after``, ending with the terminal one; ``None`` when quiet.

        ``write_now``: the transport's way to write a frame at once, without waiting (``False``:
        it could not, and wrote nothing). Live chunks in order then go to it straight from the
        channel, without coming through here; the rest (the backlog, a gap, the end, a chunk it
        declined) still comes here, in order."""
        message = self.message
        if message.finished:
            if after >= _frames_of(message):
                yield _terminal_of(message)
                return
            if not await self.channel.has_frames(message.id):
                for stored in _stored(message, after):
                    yield stored
                return
        expected = after + 1
        quiet = 0.0
        async with self.channel.follow(message.id) as feed:
            if write_now is not None:

                def live_chunk(frame: ReplyFrame) -> bool:
                    nonlocal expected
                    if isinstance(frame, ReplyChunk) and frame.seq == expected and write_now(frame):
                        expected += 1
                        return True
                    return False

                feed.hand_over(live_chunk)
            while True:
                try:
                    frame = await feed.next(self.quiet_s)
                except FeedOverflow:
                    return  # too far behind: the subscriber resumes from the last seq it holds
                if frame is None:
                    quiet += self.quiet_s
                    if quiet >= self.recheck_s and (ended := await self._ended()) is not None:
                        for stored in ended(expected - 1):
                            yield stored
                        return
                    yield None
                    continue
                quiet = 0.0
                if isinstance(frame, TERMINAL):
                    yield frame
                    return
                if frame.seq < expected:
                    continue  # held already
                if frame.seq > expected and (ended := await self._ended()) is not None:
                    # frames lost (expired or the broker restarted): the stored reply stands in
                    for stored in ended(expected - 1):
                        yield stored
                    return
                expected = frame.seq + 1
                yield frame

    async def _ended(self) -> Callable[[int], list[ReplyFrame]] | None:
        """How the stored reply ends the stream (``None``: it is still being written)."""
        async with self.uow() as uow:
            message = await uow.messages.get(self.message.id, self.message.owner_id)
        if message is None:
            gone = ReplyError(
                message_id=self.message.id,
                conversation_id=self.message.conversation_id,
                seq=0,
                detail="the reply was deleted",
            )
            return lambda _after: [gone]
        if not message.finished:
            return None
        return lambda after: _stored(message, after)


async def open_reply_stream(
    message_id: UUID, owner_id: UUID, uow: Callable[[], UnitOfWork], channel: ReplyChannel
) -> ReplyStream:
    """The owner's reply, checked before anything streams.

    Raises:
        NotFound: no such reply of the caller's (another user's is not found either).
    """
    async with uow() as work:
        message = await work.messages.get(message_id, owner_id)
    if message is None or message.sender != "assistant":
        raise NotFound(f"reply {message_id} not found")
    return ReplyStream(message=message, uow=uow, channel=channel)


def _frames_of(message: Message) -> int:
    return int(message.metadata.get(FRAMES_KEY, 1))


def _stored(message: Message, after: int) -> list[ReplyFrame]:
    """A finished reply from the database: its whole content (if the subscriber lacks some), then its end."""
    last = _frames_of(message)
    frames: list[ReplyFrame] = []
    if message.content and after < last - 1:
        frames.append(
            ReplyChunk(
                message_id=message.id,
                conversation_id=message.conversation_id,
                seq=last - 1,
                data=message.content,
                whole=True,
            )
        )
    frames.append(_terminal_of(message))
    return frames


def _terminal_of(message: Message) -> ReplyFrame:
    seq = _frames_of(message)
    if message.status == "failed":
        return ReplyError(
            message_id=message.id,
            conversation_id=message.conversation_id,
            seq=seq,
            detail=str(message.metadata.get("error", "the reply failed")),
        )
    return ReplyDone(
        message_id=message.id,
        conversation_id=message.conversation_id,
        seq=seq,
        status="stopped" if message.status == "stopped" else "completed",
        usage=message.usage,
    )
