"""Prompts: a lineage of immutable versions, and labels that point at versions.

How they are identified (the API's words):

* every version is a :class:`Prompt` with its own id; editing never changes a version, it
  adds the next one (``version`` = the lineage's latest + 1, ``parent_id`` = the version
  the edit started from, which need not be the latest: editing v1 again branches from it);
* the lineage (:class:`PromptLineage`) has the id of its version 1, so the id a client got
  on creation names the prompt for good; any version's id leads to its lineage;
* labels (``current``, ``production``, ``staging``...) name one version each. Version 1
  gets ``current``; later versions move no label by themselves: a label moves only when
  someone moves it, and moving it back is the rollback (as Langfuse and PromptLayer do).

Concurrency: an edit names the version it saw as latest (``If-Match``); a lineage that
moved on since refuses it (412), so of two editors one wins and the other reloads.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final
from uuid import UUID

from orchestrator.domain.events import DomainEvent
from shared.kernel.aggregate import Aggregate
from shared.kernel.errors import Conflict, InvalidInput, NotFound, PreconditionFailed

CURRENT: Final = "current"
"""The label every lineage has: the version to use unless a caller asks for another."""
LABEL_PATTERN: Final = r"^[a-z][a-z0-9_.-]{0,39}$"
MAX_LABELS: Final = 20
MAX_TITLE: Final = 200
MAX_CONTENT: Final = 100_000
MAX_VERSION: Final = 2**31 - 1
"""Version numbers are PostgreSQL ``integer``s."""
_LABEL = re.compile(LABEL_PATTERN)


@dataclass(frozen=True, slots=True, kw_only=True)
class Prompt:
    """One version of a prompt: immutable once written."""

    id: UUID
    lineage_id: UUID
    project_id: UUID
    version: int
    parent_id: UUID | None
    title: str
    content: str
    created_by: UUID
    created_at: datetime
    interview_id: UUID | None = None
    """The completed interview it was generated from, if it was generated."""
    model: str | None = None
    """The model that wrote it, if a model did."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptEvent(DomainEvent):
    lineage_id: UUID
    project_id: UUID
    owner_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptCreated(PromptEvent):
    """A version was written (version 1 starts the lineage)."""

    prompt_id: UUID
    version: int
    parent_id: UUID | None
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptLabelMoved(PromptEvent):
    """``label`` now names ``version`` (``None``: the label was removed)."""

    label: str
    version: int | None
    previous_version: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptDeleted(PromptEvent):
    pass


def check_label(name: str) -> str:
    if not _LABEL.match(name):
        raise InvalidInput(f"label {name!r} must match {LABEL_PATTERN}")
    return name


@dataclass(slots=True, kw_only=True)
class PromptLineage(Aggregate[DomainEvent]):
    id: UUID
    """The id of its version 1."""
    project_id: UUID
    owner_id: UUID
    latest_version: int
    labels: dict[str, int]
    """Label name → the version it points at."""
    created_at: datetime
    updated_at: datetime
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def start(
        cls,
        *,
        id: UUID,
        project_id: UUID,
        owner_id: UUID,
        title: str,
        content: str,
        now: datetime,
        interview_id: UUID | None = None,
        model: str | None = None,
    ) -> tuple[PromptLineage, Prompt]:
        """A new lineage and its version 1, labelled ``current``."""
        lineage = cls(
            id=id,
            project_id=project_id,
            owner_id=owner_id,
            latest_version=1,
            labels={CURRENT: 1},
            created_at=now,
            updated_at=now,
        )
        first = Prompt(
            id=id,
            lineage_id=id,
            project_id=project_id,
            version=1,
            parent_id=None,
            title=title,
            content=content,
            created_by=owner_id,
            created_at=now,
            interview_id=interview_id,
            model=model,
        )
        lineage._created(first, now)
        return lineage, first

    def revise(
        self,
        base: Prompt,
        *,
        id: UUID,
        title: str | None,
        content: str,
        expected_version: int | None,
        author: UUID,
        now: datetime,
    ) -> Prompt:
        """The next version, edited from ``base`` (any version of this lineage).

        Raises:
            PreconditionFailed: ``expected_version`` is given and is not the latest version.
        """
        if base.lineage_id != self.id:
            raise NotFound(f"prompt {base.id} is not a version of prompt {self.id}")
        if expected_version is not None and expected_version != self.latest_version:
            raise PreconditionFailed(
                f"prompt {self.id} is at version {self.latest_version}, not {expected_version}: "
                "reload it and retry"
            )
        self.latest_version += 1
        self.updated_at = now
        version = Prompt(
            id=id,
            lineage_id=self.id,
            project_id=self.project_id,
            version=self.latest_version,
            parent_id=base.id,
            title=base.title if title is None else title,
            content=content,
            created_by=author,
            created_at=now,
        )
        self._created(version, now)
        return version

    def move_label(self, name: str, version: int, now: datetime) -> bool:
        """Points ``name`` at ``version`` (a new label is created); answers whether anything moved.

        Raises:
            InvalidInput: a malformed name.
            NotFound: this lineage has no such version.
            Conflict: one label too many.
        """
        check_label(name)
        if not 1 <= version <= self.latest_version:
            raise NotFound(f"prompt {self.id} has no version {version} (latest is {self.latest_version})")
        previous = self.labels.get(name)
        if previous == version:
            return False
        if previous is None and len(self.labels) >= MAX_LABELS:
            raise Conflict(f"prompt {self.id} already has {MAX_LABELS} labels: remove one first")
        self.labels[name] = version
        self._label_moved(name, version, previous, now)
        return True

    def remove_label(self, name: str, now: datetime) -> None:
        """Raises: Conflict for ``current`` (every lineage keeps one); NotFound for an unknown label."""
        if name == CURRENT:
            raise Conflict(f"the {CURRENT!r} label cannot be removed: move it instead")
        previous = self.labels.pop(name, None)
        if previous is None:
            raise NotFound(f"prompt {self.id} has no label {name!r}")
        self._label_moved(name, None, previous, now)

    def labels_of(self, version: int) -> tuple[str, ...]:
        return tuple(sorted(name for name, at in self.labels.items() if at == version))

    def delete(self, now: datetime) -> None:
        self.record(
            PromptDeleted(
                occurred_at=now, lineage_id=self.id, project_id=self.project_id, owner_id=self.owner_id
            )
        )

    def _created(self, prompt: Prompt, now: datetime) -> None:
        self.record(
            PromptCreated(
                occurred_at=now,
                lineage_id=self.id,
                project_id=self.project_id,
                owner_id=self.owner_id,
                prompt_id=prompt.id,
                version=prompt.version,
                parent_id=prompt.parent_id,
                labels=self.labels_of(prompt.version),
            )
        )

    def _label_moved(self, name: str, version: int | None, previous: int | None, now: datetime) -> None:
        self.updated_at = now
        self.record(
            PromptLabelMoved(
                occurred_at=now,
                lineage_id=self.id,
                project_id=self.project_id,
                owner_id=self.owner_id,
                label=name,
                version=version,
                previous_version=previous,
            )
        )


def unified_diff(old: Prompt, new: Prompt, *, context: int = 3) -> str:
    """The unified diff from ``old`` to ``new`` (``diff -u`` style; empty when they are the same)."""
    lines = difflib.unified_diff(
        old.content.splitlines(keepends=True),
        new.content.splitlines(keepends=True),
        fromfile=f"v{old.version}",
        tofile=f"v{new.version}",
        n=context,
    )
    # a last line without a newline would run into the next header
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )
