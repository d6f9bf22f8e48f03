"""A project's changelog: its commits since a sha or a date, grouped by type.

Grouped as conventional-changelog's ``conventionalcommits`` preset does: breaking changes
first, then the sections in the preset's order and with its names; within a section the
newest first. The preset hides the minor sections by default; here every type is shown (a
project's history view wants them) and ``hidden`` says which the preset would leave out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from orchestrator.application.ports import UnitOfWork
from orchestrator.application.projects import owned_project
from orchestrator.domain.commits import Commit
from shared.kernel.errors import InvalidInput, NotFound

SECTIONS: tuple[tuple[str, str, bool], ...] = (
    ("feat", "Features", False),
    ("fix", "Bug Fixes", False),
    ("perf", "Performance Improvements", False),
    ("revert", "Reverts", False),
    ("docs", "Documentation", True),
    ("style", "Styles", True),
    ("chore", "Miscellaneous Chores", True),
    ("refactor", "Code Refactoring", True),
    ("test", "Tests", True),
    ("build", "Build System", True),
    ("ci", "Continuous Integration", True),
)
BREAKING = "BREAKING CHANGES"


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    type: str | None
    """``None`` for the breaking changes."""
    hidden: bool
    commits: list[Commit]


@dataclass(frozen=True, slots=True)
class Changelog:
    project_id: UUID
    since_sha: str | None
    since: datetime | None
    sections: list[Section]


async def changelog(
    project_id: UUID,
    owner_id: UUID,
    uow: UnitOfWork,
    *,
    since_sha: str | None = None,
    since: datetime | None = None,
) -> Changelog:
    """The project's commits after ``since_sha`` (that commit excluded) or after ``since``, grouped.

    Raises:
        InvalidInput: both ``since_sha`` and ``since`` are given.
        NotFound: the project is not the caller's, or ``since_sha`` is not recorded in it.
    """
    if since_sha is not None and since is not None:
        raise InvalidInput("give since_sha or since, not both")
    async with uow:
        await owned_project(uow, project_id, owner_id)
        after: datetime | tuple[datetime, UUID] | None = since
        if since_sha is not None:
            base = await uow.commits.by_sha(project_id, since_sha)
            if base is None:
                raise NotFound(f"commit {since_sha} is not recorded in project {project_id}")
            after = (base.committed_at, base.id)
        commits = list(await uow.commits.since(project_id, after=after))
    sections = [Section(BREAKING, None, False, [c for c in commits if c.breaking])]
    sections += [
        Section(title, kind, hidden, [c for c in commits if c.type == kind])
        for kind, title, hidden in SECTIONS
    ]
    return Changelog(
        project_id=project_id,
        since_sha=since_sha,
        since=since,
        sections=[s for s in sections if s.commits],
    )


def markdown(log: Changelog) -> str:
    """The changelog as conventional-changelog writes it (``* **scope:** subject (sha)``)."""
    since = (
        f" since {log.since_sha[:7]}" if log.since_sha else f" since {log.since.date()}" if log.since else ""
    )
    lines = [f"## Changelog{since}", ""]
    for section in log.sections:
        lines += [f"### {'⚠ ' if section.type is None else ''}{section.title}", ""]
        for commit in section.commits:
            scope = f"**{commit.scope}:** " if commit.scope else ""
            text = (commit.breaking_note or commit.subject) if section.type is None else commit.subject
            lines.append(f"* {scope}{text} ({commit.sha[:7]})")
        lines.append("")
    if not log.sections:
        lines += ["No changes.", ""]
    return "\n".join(lines)
