"""The replica of orchestrator's project and task ownership, as chat keeps it from its events.

chat never calls orchestrator: whether a user may link a conversation to a project or a task
is answered from this replica, which the ``chat.ownership`` consumer keeps current.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectFact:
    """A project as one orchestrator event states it; ``at`` is the event's ``occurred_at``."""

    project_id: UUID
    owner_id: UUID
    deleted: bool
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskFact:
    """A task as one orchestrator event states it; ``at`` is the event's ``occurred_at``."""

    task_id: UUID
    project_id: UUID
    owner_id: UUID
    deleted: bool
    at: datetime


class Ownership(Protocol):
    """Who owns which project and task (transactional: joins the unit of work's transaction).

    Reads: a deleted (tombstoned) project or task, one of another owner, or one never heard
    of are all "not owned". A task counts only while its project does too.

    Writes keep the replica moving forward only: a fact older than the stored one changes
    nothing, a tombstone is final (a later fact about the same id changes nothing), and
    applying the same fact twice is harmless.
    """

    async def owns_project(self, owner_id: UUID, project_id: UUID) -> bool: ...

    async def project_of_task(self, owner_id: UUID, task_id: UUID) -> UUID | None:
        """The project of ``owner_id``'s task ``task_id``, or ``None`` when it is not theirs."""
        ...

    async def record_project(self, fact: ProjectFact) -> bool:
        """Stores the fact unless an equal or newer one (or a tombstone) is stored; ``True`` when
        it changed the replica. A deleted project also tombstones every task of it."""
        ...

    async def record_task(self, fact: TaskFact) -> bool:
        """Stores the fact unless an equal or newer one (or a tombstone) is stored; ``True``
        when it changed the replica."""
        ...

    async def forget_owner(self, owner_id: UUID) -> int:
        """Tombstones every project and task of ``owner_id`` (their account is erased, and
        orchestrator deletes their projects without an event each): no link to them is accepted
        from now on and no late event revives them. Returns how many projects it tombstoned."""
        ...
