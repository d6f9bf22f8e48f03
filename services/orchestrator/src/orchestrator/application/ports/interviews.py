"""Where requirement interviews are kept."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from orchestrator.domain.interviews import Interview


class InterviewRepository(Protocol):
    """Interviews, always read through their project's owner: another owner's interview does
    not exist here.

    Transactional: changes count once the unit of work commits.
    """

    async def get(self, interview_id: UUID, owner_id: UUID, *, for_update: bool = False) -> Interview | None:
        """The interview if ``owner_id`` owns its project; ``for_update`` locks its row until commit."""
        ...

    async def list(self, project_id: UUID, *, before_id: UUID | None, limit: int) -> Sequence[Interview]:
        """Up to ``limit`` interviews of the project, newest first, older than ``before_id`` if given."""
        ...

    async def add(self, interview: Interview) -> None: ...

    async def update(self, interview: Interview) -> None: ...

    async def delete(self, interview_id: UUID) -> None: ...
