"""A recorded commit: a conventional message, parsed and checked, on a project (and maybe a task).

Rules: the message passes commitlint's config-conventional errors (warnings are kept, not
refused); a sha is recorded once per project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from orchestrator.domain.commitlint import Violation, errors_in, lint
from orchestrator.domain.conventional import Footer, parse
from orchestrator.domain.events import DomainEvent
from shared.kernel.aggregate import Aggregate
from shared.kernel.errors import InvalidInput


class InvalidCommitMessage(InvalidInput):
    """The message breaks commitlint rules at level error; ``violations`` lists every one."""

    def __init__(self, violations: list[Violation]) -> None:
        rules = "; ".join(f"{v.rule}: {v.message}" for v in violations)
        super().__init__(f"the commit message breaks commitlint's config-conventional: {rules}")
        self.violations = violations


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitRecorded(DomainEvent):
    commit_id: UUID
    project_id: UUID
    owner_id: UUID
    task_id: UUID | None
    sha: str
    type: str
    scope: str | None
    breaking: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitDeleted(DomainEvent):
    commit_id: UUID
    project_id: UUID
    owner_id: UUID
    sha: str


@dataclass(slots=True, kw_only=True)
class Commit(Aggregate[DomainEvent]):
    id: UUID
    project_id: UUID
    owner_id: UUID
    task_id: UUID | None
    sha: str
    message: str
    type: str
    scope: str | None
    breaking: bool
    subject: str
    body: str | None
    footers: tuple[Footer, ...]
    breaking_note: str | None
    committed_at: datetime
    """When it was committed (the caller's word), else when it was recorded."""
    created_at: datetime
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        *,
        id: UUID,
        project_id: UUID,
        owner_id: UUID,
        task_id: UUID | None,
        sha: str,
        message: str,
        committed_at: datetime | None,
        now: datetime,
    ) -> Commit:
        """Parse and check ``message``.

        Raises:
            InvalidCommitMessage: it breaks a rule at level error.
        """
        parsed = parse(message)
        refused = errors_in(lint(parsed))
        if refused:
            raise InvalidCommitMessage(refused)
        commit = cls(
            id=id,
            project_id=project_id,
            owner_id=owner_id,
            task_id=task_id,
            sha=sha.lower(),
            message=message,
            type=parsed.type or "chore",  # only an ignored (merge, fixup) message has none
            scope=parsed.scope or None,
            breaking=parsed.breaking,
            subject=parsed.subject or parsed.header,
            body=parsed.body,
            footers=parsed.footers,
            breaking_note=parsed.breaking_note,
            committed_at=committed_at or now,
            created_at=now,
        )
        commit.record(
            CommitRecorded(
                occurred_at=now,
                commit_id=id,
                project_id=project_id,
                owner_id=owner_id,
                task_id=task_id,
                sha=commit.sha,
                type=commit.type,
                scope=commit.scope,
                breaking=commit.breaking,
            )
        )
        return commit

    def delete(self, now: datetime) -> None:
        self.record(
            CommitDeleted(
                occurred_at=now,
                commit_id=self.id,
                project_id=self.project_id,
                owner_id=self.owner_id,
                sha=self.sha,
            )
        )
