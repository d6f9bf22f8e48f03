"""One project's changes, read live from orchestrator's own stream (``ORCHESTRATOR``) on NATS.

Each reader gets an ephemeral ordered push consumer (nothing to ack, nothing left on the server
when it goes; nats-py re-creates it from the last sequence after a gap), filtered to the
board's subjects and then to the project by the event's ``project_id``. Positions are stream
sequences, so a client that saw sequence ``n`` resumes exactly after it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Final
from uuid import UUID

import msgspec
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy

from orchestrator.application.ports.board import BoardEvent, FeedOverflow
from shared.contracts import orchestrator

SUBJECTS: Final = (
    "orchestrator.project.>",
    "orchestrator.task.>",
    "orchestrator.prompt.>",
    "orchestrator.interview.>",
    "orchestrator.commit.>",
)
BACKLOG: Final = 1000
"""Events a reader may fall behind by; past it the feed ends and the client resumes from its last id."""
HEARTBEAT_S: Final = 5.0
"""The server's idle heartbeat to the ordered consumer (how soon a lost consumer is re-created)."""

_log = structlog.get_logger("board.feed")


class _ProjectOf(msgspec.Struct):
    project_id: UUID | None = None


_project_of = msgspec.json.Decoder(_ProjectOf)


@dataclass(slots=True)
class NatsBoardFeed:
    last_sequence: int
    """The stream's last sequence when the feed started (or the reader's resume point)."""
    queue: asyncio.Queue[BoardEvent | None]

    async def next(self, quiet_s: float) -> BoardEvent | None:
        """The next event of the project, or ``None`` after ``quiet_s`` seconds of quiet.

        Raises:
            FeedOverflow: the reader fell too far behind.
        """
        try:
            event = await asyncio.wait_for(self.queue.get(), quiet_s)
        except TimeoutError:
            return None
        if event is None:
            raise FeedOverflow
        return event


class NatsBoardEvents:
    """``BoardEvents`` on the API process's NATS connection."""

    def __init__(self, nc: Client) -> None:
        self._nc = nc

    def follow(self, project_id: UUID, *, after: int | None) -> AbstractAsyncContextManager[NatsBoardFeed]:
        return _follow(self._nc, project_id, after=after)


@asynccontextmanager
async def _follow(nc: Client, project_id: UUID, *, after: int | None) -> AsyncIterator[NatsBoardFeed]:
    """The project's events after stream sequence ``after`` (from now when ``None``)."""
    js = nc.jetstream()
    if after is None:
        after = (await js.stream_info(orchestrator.STREAM)).state.last_seq
    queue: asyncio.Queue[BoardEvent | None] = asyncio.Queue(maxsize=BACKLOG + 1)
    overflowed = False

    async def on_message(msg: Msg) -> None:
        nonlocal overflowed
        if overflowed:
            return
        try:
            mine = _project_of.decode(msg.data).project_id == project_id
        except msgspec.DecodeError:
            mine = False
        if not mine:
            return
        if queue.qsize() >= BACKLOG:
            overflowed = True
            queue.put_nowait(None)
            return
        queue.put_nowait(
            BoardEvent(sequence=msg.metadata.sequence.stream, subject=msg.subject, data=msg.data)
        )

    subscription = await js.subscribe(
        "orchestrator.>",
        stream=orchestrator.STREAM,
        cb=on_message,
        ordered_consumer=True,
        idle_heartbeat=HEARTBEAT_S,
        config=ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=after + 1,
            filter_subjects=list(SUBJECTS),
        ),
    )
    try:
        yield NatsBoardFeed(last_sequence=after, queue=queue)
    finally:
        if not nc.is_closed:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
