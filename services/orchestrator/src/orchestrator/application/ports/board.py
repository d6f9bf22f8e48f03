"""The live board's feed: a project's changes as they are published, from a position on."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True)
class BoardEvent:
    sequence: int
    """The event's position (a stream sequence): resuming after it yields the events that follow."""
    subject: str
    """What happened, e.g. ``orchestrator.task.moved``."""
    data: bytes
    """The event's contract JSON, as published."""


class FeedOverflow(Exception):
    """The reader fell too far behind; it resumes from the last position it read."""


class BoardFeed(Protocol):
    @property
    def last_sequence(self) -> int:
        """The position the feed starts after."""
        ...

    async def next(self, quiet_s: float) -> BoardEvent | None:
        """The project's next event, or ``None`` after ``quiet_s`` seconds without one.

        Raises:
            FeedOverflow: the reader fell too far behind.
        """
        ...


class BoardEvents(Protocol):
    """Follows one project's published events. Not transactional: reads the broker."""

    def follow(self, project_id: UUID, *, after: int | None) -> AbstractAsyncContextManager[BoardFeed]:
        """The project's events after position ``after`` (from now when ``None``), until the block exits."""
        ...
