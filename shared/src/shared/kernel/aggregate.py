"""Aggregates record their events; the unit of work collects them at commit.

An aggregate (``identity.domain.users.User``...) appends to its ``events`` as its rules
run. Its repository tells the unit of work about every aggregate it loads or adds
(:class:`Seen`), and the unit of work writes their new events to the outbox in the
commit's transaction. No use case hands events over by hand, so none can forget to.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar

E = TypeVar("E")
E_co = TypeVar("E_co", covariant=True)


class RecordsEvents(Protocol[E_co]):
    """Anything that keeps events until they are pulled (covariant: an aggregate recording a
    service's own events can join a unit of work that also collects shared ones)."""

    def pull_events(self) -> Sequence[E_co]:
        """The events recorded since the last pull, handed over once."""
        ...


class Aggregate(Generic[E]):
    """Mixin for an aggregate root: :meth:`record` an event, :meth:`pull_events` hands them over.

    The subclass declares the storage, e.g. on a dataclass
    ``events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)``.
    """

    __slots__ = ()
    events: list[E]

    def record(self, event: E) -> None:
        self.events.append(event)

    def pull_events(self) -> list[E]:
        events = list(self.events)
        self.events.clear()
        return events


class Seen(Generic[E]):
    """The aggregates one unit of work has loaded or added, in the order first seen."""

    __slots__ = ("_aggregates",)

    def __init__(self) -> None:
        self._aggregates: dict[int, RecordsEvents[E]] = {}

    def add(self, aggregate: RecordsEvents[E]) -> None:
        self._aggregates.setdefault(id(aggregate), aggregate)

    def collect(self) -> list[E]:
        """Every new event of every aggregate seen, each aggregate's in the order recorded."""
        return [event for aggregate in self._aggregates.values() for event in aggregate.pull_events()]

    def clear(self) -> None:
        self._aggregates.clear()
