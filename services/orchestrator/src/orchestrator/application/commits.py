"""Commits: check a message, record a commit on a project, read, delete.

Every read and write goes through the project's owner (``owned_project``): another owner's
project or commit is "not found". A task link must name a task of the same project.
Generation (``commit_messages``) and the changelog (``changelog``) have their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final
from uuid import UUID

from orchestrator.application.ports import UnitOfWork
from orchestrator.application.projects import owned_project
from orchestrator.domain.commitlint import Violation, lint
from orchestrator.domain.commits import Commit
from orchestrator.domain.conventional import ParsedMessage, parse
from shared.kernel.clock import Clock, SystemClock
from shared.kernel.errors import Conflict, NotFound
from shared.kernel.ids import new_id

_CLOCK: Final = SystemClock()


@dataclass(frozen=True, slots=True)
class Checked:
    parsed: ParsedMessage
    violations: list[Violation]

    @property
    def valid(self) -> bool:
        """No error (warnings do not make a message invalid, as in commitlint)."""
        return not any(v.level == "error" for v in self.violations)


def check_message(message: str) -> Checked:
    """The message parsed, with every violation of commitlint's config-conventional."""
    parsed = parse(message)
    return Checked(parsed=parsed, violations=lint(parsed))


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordCommit:
    project_id: UUID
    owner_id: UUID
    sha: str
    message: str
    task_id: UUID | None = None
    committed_at: datetime | None = None


async def record_commit(cmd: RecordCommit, uow: UnitOfWork, *, clock: Clock = _CLOCK) -> Commit:
    """Record a commit on one of the caller's projects.

    Rules: the project is writable (not archived); the task, if named, is one of the
    project's; the message has no commitlint error; a sha is recorded once per project.

    Raises:
        NotFound: the project (or the task) is not the caller's.
        InvalidCommitMessage: the message breaks a rule (every violation listed).
        Conflict: the project is archived, or the sha is already recorded.
    """
    async with uow:
        project = await owned_project(uow, cmd.project_id, cmd.owner_id)
        project.ensure_writable()
        if (
            cmd.task_id is not None
            and await uow.task_links.project_of(cmd.task_id, cmd.owner_id) != project.id
        ):
            raise NotFound(f"task {cmd.task_id} not found in project {project.id}")
        if await uow.commits.by_sha(project.id, cmd.sha) is not None:
            raise Conflict(f"commit {cmd.sha.lower()} is already recorded in this project")
        commit = Commit.create(
            id=new_id(),
            project_id=project.id,
            owner_id=cmd.owner_id,
            task_id=cmd.task_id,
            sha=cmd.sha,
            message=cmd.message,
            committed_at=cmd.committed_at,
            now=clock.now(),
        )
        await uow.commits.add(commit)
        await uow.commit()
    return commit


async def owned_commit(uow: UnitOfWork, commit_id: UUID, owner_id: UUID) -> Commit:
    """Raises NotFound: no such commit, or it is on someone else's project."""
    commit = await uow.commits.get(commit_id, owner_id)
    if commit is None:
        raise NotFound(f"commit {commit_id} not found")
    return commit


async def get_commit(commit_id: UUID, owner_id: UUID, uow: UnitOfWork) -> Commit:
    async with uow:
        return await owned_commit(uow, commit_id, owner_id)


async def delete_commit(commit_id: UUID, owner_id: UUID, uow: UnitOfWork, *, clock: Clock = _CLOCK) -> None:
    """Remove a commit from its project's history (the project must be writable)."""
    async with uow:
        commit = await owned_commit(uow, commit_id, owner_id)
        project = await owned_project(uow, commit.project_id, owner_id)
        project.ensure_writable()
        commit.delete(clock.now())
        await uow.commits.delete(commit)
        await uow.commit()


async def list_commits(
    project_id: UUID,
    owner_id: UUID,
    uow: UnitOfWork,
    *,
    after: tuple[datetime, UUID] | None,
    limit: int,
    type: str | None = None,
) -> list[Commit]:
    """Up to ``limit`` of the project's commits, newest first, strictly after the ``after`` position."""
    async with uow:
        await owned_project(uow, project_id, owner_id)
        return list(await uow.commits.page(project_id, after=after, limit=limit, type=type))


async def task_commits(
    task_id: UUID, owner_id: UUID, uow: UnitOfWork, *, after: tuple[datetime, UUID] | None, limit: int
) -> list[Commit]:
    """The commits recorded for one of the caller's tasks, newest first. NotFound: not the caller's task."""
    async with uow:
        if await uow.task_links.project_of(task_id, owner_id) is None:
            raise NotFound(f"task {task_id} not found")
        return list(await uow.commits.of_task(task_id, owner_id, after=after, limit=limit))
