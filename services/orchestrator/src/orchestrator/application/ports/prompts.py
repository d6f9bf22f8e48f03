"""Where prompts are kept: lineages (with their labels) and their immutable versions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from orchestrator.domain.prompts import Prompt, PromptLineage


@dataclass(frozen=True, slots=True, kw_only=True)
class LineageSummary:
    """A lineage as a list shows it: its labels and its latest version."""

    lineage: PromptLineage
    latest: Prompt


class PromptRepository(Protocol):
    """Prompt versions and lineages. Reads here do not check ownership: the use cases check the
    version's project through its owner (``application.projects.owned_project``).

    Transactional: changes count once the unit of work commits.
    """

    async def get(self, prompt_id: UUID) -> Prompt | None:
        """Any version, by its own id."""
        ...

    async def owned(self, prompt_id: UUID, owner_id: UUID) -> tuple[Prompt, PromptLineage] | None:
        """The version and its lineage if ``owner_id`` owns their project (one round trip: reads)."""
        ...

    async def get_version(self, lineage_id: UUID, version: int) -> Prompt | None:
        """Version ``version`` of the lineage ``lineage_id``."""
        ...

    async def lineage(self, lineage_id: UUID, *, for_update: bool = False) -> PromptLineage | None:
        """The lineage with its labels; ``for_update`` locks it until commit (edits and label
        moves lock it, so versions are numbered one after another)."""
        ...

    async def versions(self, lineage_id: UUID, *, before_version: int | None, limit: int) -> Sequence[Prompt]:
        """Up to ``limit`` versions, newest first, older than ``before_version`` when given."""
        ...

    async def lineages(
        self, project_id: UUID, *, before_id: UUID | None, limit: int
    ) -> Sequence[LineageSummary]:
        """Up to ``limit`` lineages of the project, newest first, each with its latest version."""
        ...

    async def add(self, lineage: PromptLineage, first: Prompt) -> None:
        """A new lineage and its version 1."""
        ...

    async def add_version(self, lineage: PromptLineage, prompt: Prompt) -> None:
        """A new version of ``lineage`` (whose latest version and labels are saved with it)."""
        ...

    async def update(self, lineage: PromptLineage) -> None:
        """Saves the lineage's labels and latest version."""
        ...

    async def delete(self, lineage_id: UUID) -> None:
        """Deletes the lineage and every version of it."""
        ...
