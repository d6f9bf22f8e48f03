"""Prompts: create version 1, edit (a new immutable version), history, diff, labels, delete.

Every read and write goes through the owner of the prompt's project: another owner's
prompt is "not found". Any version's id names its lineage for the lineage-wide operations
(edit, history, labels, diff, delete). Generation from an interview is in
``application.prompt_generation``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from orchestrator.application.ports import UnitOfWork
from orchestrator.application.ports.prompts import LineageSummary
from orchestrator.application.projects import owned_project
from orchestrator.domain.prompts import MAX_VERSION, Prompt, PromptLineage, unified_diff
from shared.kernel.clock import Clock, SystemClock
from shared.kernel.errors import NotFound
from shared.kernel.ids import new_id
from shared.kernel.pagination import InvalidCursor, Page, clamp_limit, decode_cursor, page_from_rows

SYSTEM_CLOCK: Clock = SystemClock()


@dataclass(frozen=True, slots=True, kw_only=True)
class Versioned:
    """A version with its lineage (for its labels and the latest version number)."""

    prompt: Prompt
    lineage: PromptLineage


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatePrompt:
    owner_id: UUID
    project_id: UUID
    title: str
    content: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EditPrompt:
    owner_id: UUID
    prompt_id: UUID
    """The version the edit starts from (any version of the lineage)."""
    content: str
    title: str | None
    expected_version: int | None
    """The latest version the editor saw (``If-Match``); ``None``: whatever is latest."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Diff:
    old: Prompt
    new: Prompt
    text: str


async def owned_prompt(uow: UnitOfWork, prompt_id: UUID, owner_id: UUID, *, writable: bool = False) -> Prompt:
    """The version ``prompt_id`` if ``owner_id`` owns its project.

    Raises:
        NotFound: no such version, or its project is someone else's.
        Conflict: ``writable`` and the project is archived.
    """
    prompt = await uow.prompts.get(prompt_id)
    if prompt is None:
        raise NotFound(f"prompt {prompt_id} not found")
    try:
        project = await owned_project(uow, prompt.project_id, owner_id)
    except NotFound:
        raise NotFound(f"prompt {prompt_id} not found") from None
    if writable:
        project.ensure_writable()
    return prompt


async def _owned_read(uow: UnitOfWork, prompt_id: UUID, owner_id: UUID) -> tuple[Prompt, PromptLineage]:
    """For reads: the version and its lineage in one query (NotFound as :func:`owned_prompt`)."""
    found = await uow.prompts.owned(prompt_id, owner_id)
    if found is None:
        raise NotFound(f"prompt {prompt_id} not found")
    return found


async def _lineage(uow: UnitOfWork, prompt: Prompt, *, for_update: bool = False) -> PromptLineage:
    lineage = await uow.prompts.lineage(prompt.lineage_id, for_update=for_update)
    if lineage is None:  # deleted between the two reads
        raise NotFound(f"prompt {prompt.id} not found")
    return lineage


async def create_prompt(cmd: CreatePrompt, uow: UnitOfWork, *, clock: Clock = SYSTEM_CLOCK) -> Versioned:
    """Version 1 of a new prompt, written by hand, labelled ``current``. The project must be
    the caller's (404) and not archived (409)."""
    async with uow:
        project = await owned_project(uow, cmd.project_id, cmd.owner_id)
        project.ensure_writable()
        lineage, first = PromptLineage.start(
            id=new_id(),
            project_id=project.id,
            owner_id=cmd.owner_id,
            title=cmd.title,
            content=cmd.content,
            now=clock.now(),
        )
        await uow.prompts.add(lineage, first)
        await uow.commit()
    return Versioned(prompt=first, lineage=lineage)


async def read_prompt(prompt_id: UUID, owner_id: UUID, uow: UnitOfWork) -> Versioned:
    async with uow:
        prompt, lineage = await _owned_read(uow, prompt_id, owner_id)
        return Versioned(prompt=prompt, lineage=lineage)


async def edit_prompt(cmd: EditPrompt, uow: UnitOfWork, *, clock: Clock = SYSTEM_CLOCK) -> Versioned:
    """A new version edited from ``cmd.prompt_id`` (its parent), numbered latest + 1.

    The lineage is locked while the version is written, so concurrent edits are numbered one
    after the other; with ``expected_version`` the edit is refused (412) unless that is still
    the latest version: of two editors who saw the same version, one wins.
    """
    async with uow:
        base = await owned_prompt(uow, cmd.prompt_id, cmd.owner_id, writable=True)
        lineage = await _lineage(uow, base, for_update=True)
        version = lineage.revise(
            base,
            id=new_id(),
            title=cmd.title,
            content=cmd.content,
            expected_version=cmd.expected_version,
            author=cmd.owner_id,
            now=clock.now(),
        )
        await uow.prompts.add_version(lineage, version)
        await uow.commit()
    return Versioned(prompt=version, lineage=lineage)


async def prompt_history(
    prompt_id: UUID, owner_id: UUID, uow: UnitOfWork, *, cursor: str | None, limit: int | None
) -> tuple[PromptLineage, Page[Prompt]]:
    """The lineage's versions, newest first, one page at a time."""
    size = clamp_limit(limit)
    before = decode_cursor(cursor, int) if cursor else None
    if before is not None and not 1 < before <= MAX_VERSION:  # not one of ours: it would overflow the column
        raise InvalidCursor("The cursor is not valid for this list.")
    async with uow:
        _, lineage = await _owned_read(uow, prompt_id, owner_id)
        rows = await uow.prompts.versions(lineage.id, before_version=before, limit=size + 1)
    return lineage, page_from_rows(rows, size, key=lambda p: p.version)


async def list_prompts(
    project_id: UUID, owner_id: UUID, uow: UnitOfWork, *, cursor: str | None, limit: int | None
) -> Page[LineageSummary]:
    """The project's prompts, newest first, each with its labels and latest version."""
    size = clamp_limit(limit)
    before = decode_cursor(cursor, UUID) if cursor else None
    async with uow:
        await owned_project(uow, project_id, owner_id)
        rows: Sequence[LineageSummary] = await uow.prompts.lineages(
            project_id, before_id=before, limit=size + 1
        )
    return page_from_rows(rows, size, key=lambda s: s.lineage.id)


async def version_of(uow: UnitOfWork, lineage: PromptLineage, version: int) -> Prompt:
    prompt = await uow.prompts.get_version(lineage.id, version)
    if prompt is None:
        raise NotFound(f"prompt {lineage.id} has no version {version} (latest is {lineage.latest_version})")
    return prompt


async def diff_prompt(prompt_id: UUID, owner_id: UUID, uow: UnitOfWork, *, old: int, new: int) -> Diff:
    """The unified diff between two versions of the lineage (404 for a version it does not have)."""
    async with uow:
        _, lineage = await _owned_read(uow, prompt_id, owner_id)
        before, after = await version_of(uow, lineage, old), await version_of(uow, lineage, new)
    return Diff(old=before, new=after, text=unified_diff(before, after))


async def labelled_version(prompt_id: UUID, owner_id: UUID, label: str, uow: UnitOfWork) -> Versioned:
    """The version ``label`` points at (404 for a label the lineage does not have)."""
    async with uow:
        _, lineage = await _owned_read(uow, prompt_id, owner_id)
        if label not in lineage.labels:
            raise NotFound(f"prompt {lineage.id} has no label {label!r}")
        return Versioned(prompt=await version_of(uow, lineage, lineage.labels[label]), lineage=lineage)


async def move_label(
    prompt_id: UUID, owner_id: UUID, label: str, version: int, uow: UnitOfWork, *, clock: Clock = SYSTEM_CLOCK
) -> PromptLineage:
    """Points ``label`` at ``version`` (creating the label); moving it back is the rollback.
    An event only when it moved."""
    async with uow:
        prompt = await owned_prompt(uow, prompt_id, owner_id, writable=True)
        lineage = await _lineage(uow, prompt, for_update=True)
        if lineage.move_label(label, version, clock.now()):
            await uow.prompts.update(lineage)
            await uow.commit()
    return lineage


async def remove_label(
    prompt_id: UUID, owner_id: UUID, label: str, uow: UnitOfWork, *, clock: Clock = SYSTEM_CLOCK
) -> None:
    """Removes a label (never ``current``: 409)."""
    async with uow:
        prompt = await owned_prompt(uow, prompt_id, owner_id, writable=True)
        lineage = await _lineage(uow, prompt, for_update=True)
        lineage.remove_label(label, clock.now())
        await uow.prompts.update(lineage)
        await uow.commit()


async def delete_prompt(
    prompt_id: UUID, owner_id: UUID, uow: UnitOfWork, *, clock: Clock = SYSTEM_CLOCK
) -> None:
    """Deletes the whole lineage (every version and label) that ``prompt_id`` belongs to."""
    async with uow:
        prompt = await owned_prompt(uow, prompt_id, owner_id, writable=True)
        lineage = await _lineage(uow, prompt, for_update=True)
        lineage.delete(clock.now())
        await uow.prompts.delete(lineage.id)
        await uow.commit()
