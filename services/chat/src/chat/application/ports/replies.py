"""How a reply's frames travel from the process generating it to every subscriber, in any process.

A generation publishes numbered frames (``seq`` 1, 2, ...): chunks of text, then exactly one
terminal frame (``done`` or ``error``). The channel keeps each reply's frames for a while, so a
subscriber that (re)connects reads them from the first and skips what it already has; the
database keeps the content in batches and, once the reply finished, the whole of it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

from shared.kernel.ai import Usage
from shared.kernel.values import Untracked

FinishedStatus = Literal["completed", "stopped", "failed"]


class ReplyChunk(Untracked, frozen=True, kw_only=True):
    """Frames are :class:`Untracked`: a process keeps every frame of the replies it writes (a
    minute past their end), and 500 streams' 25,000 frames a second, as tracked objects, were
    a young collection every 0.35 s (3-8 ms) and an older one every 4 s (30-40 ms): the tail
    of the streams bench's added latency per token."""

    message_id: UUID
    conversation_id: UUID
    seq: int
    data: str
    whole: bool = False
    """``data`` is the reply's whole content up to ``seq`` (a resume the frames could no longer
    serve): it replaces what the subscriber holds instead of extending it."""


class ReplyDone(Untracked, frozen=True, kw_only=True):
    """The reply finished (completed, or stopped by its owner); ``seq`` is its last frame's."""

    message_id: UUID
    conversation_id: UUID
    seq: int
    status: FinishedStatus
    usage: Usage


class ReplyError(Untracked, frozen=True, kw_only=True):
    """The reply failed (the model, or its process); the partial content stays readable."""

    message_id: UUID
    conversation_id: UUID
    seq: int
    detail: str


ReplyFrame = ReplyChunk | ReplyDone | ReplyError
TERMINAL = (ReplyDone, ReplyError)


class FeedOverflow(Exception):
    """The subscriber fell too far behind: its feed ends (it resumes from the last seq it holds)."""


FrameTaker = Callable[[ReplyFrame], bool]
"""Takes a frame at once, in the caller's own call (``True``), or declines it (``False``)."""


class ReplyFeed(Protocol):
    async def next(self, quiet_s: float) -> ReplyFrame | None:
        """The next frame of the reply, from its first; ``None`` after ``quiet_s`` seconds of quiet.

        Raises:
            FeedOverflow: the subscriber fell too far behind.
        """
        ...

    def hand_over(self, take: FrameTaker) -> None:
        """From now on, a frame that comes while the subscriber waits in :meth:`next` on an empty
        feed is first offered to ``take``, in the producer's own call: taken, it is done with
        (and counts as activity, not quiet); declined, it is queued for :meth:`next` as any
        other. Frames so stay in order, and a subscriber that can write a frame out at once
        saves waking up for each."""
        ...


class ReplyChannel(Protocol):
    """Frames between processes, and the stop signal to whichever process runs a reply.
    Not transactional: never called inside a unit of work."""

    def begin(self, message_id: UUID) -> None:
        """This process writes the reply, from its first frame: followers here may be served
        from memory (they still get every frame, in order)."""
        ...

    def end(self, message_id: UUID) -> None:
        """This process no longer writes the reply (its terminal frame, if any, is published)."""
        ...

    def publish(self, frame: ReplyFrame) -> None:
        """Fire and forget, in order per reply (the channel stores it for late subscribers):
        handed over at once, sent on by the channel (a generation never waits on the broker)."""
        ...

    def follow(self, message_id: UUID) -> AbstractAsyncContextManager[ReplyFeed]:
        """The reply's frames from its first one kept, then live ones as they come."""
        ...

    async def has_frames(self, message_id: UUID) -> bool:
        """Whether the channel still keeps frames of this reply (they expire)."""
        ...

    async def request_stop(self, message_id: UUID) -> bool:
        """Ask the process running the reply to stop it; ``True`` once it has (finished as
        ``stopped``), ``False`` when no process answers (none runs it any more)."""
        ...

    def serve_stops(self, stop: Callable[[UUID], Awaitable[bool]]) -> AbstractAsyncContextManager[None]:
        """While open, stop requests reach ``stop`` (``True``: it ran here and is stopped now)."""
        ...


class Leases(Protocol):
    """The in-flight replies' stored side: batched content and the lease that says their process
    lives. Transactional (commit required); it never finishes a reply (the domain does)."""

    async def checkpoint(
        self, contents: Sequence[tuple[UUID, str | None, int]], until: datetime
    ) -> set[UUID]:
        """For each in-flight reply: its content so far and the ``seq`` of its last frame
        (content ``None``: unchanged; content makes it ``streaming``), and its lease renewed to
        ``until``, all in one statement. Finished or deleted replies are left as they are: the
        answer is the ids still in flight."""
        ...

    async def lapsed(self, now: datetime, *, unleased_since: datetime, limit: int) -> list[tuple[UUID, UUID]]:
        """(message id, owner id) of in-flight replies whose lease ran out before ``now`` (or,
        never leased, created before ``unleased_since``): their process is gone."""
        ...
