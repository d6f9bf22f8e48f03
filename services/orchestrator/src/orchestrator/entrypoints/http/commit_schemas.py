"""Request and response bodies of the commit routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from orchestrator.application.changelog import Changelog
from orchestrator.application.commits import Checked
from orchestrator.domain.commitlint import Violation
from orchestrator.domain.commits import Commit
from orchestrator.domain.conventional import Footer
from shared.http.openapi import NO_NUL

MAX_MESSAGE = 10_000
MAX_DIFF = 20_000
SHA = "^[0-9a-fA-F]{7,40}$"

Message = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=MAX_MESSAGE,
        pattern=NO_NUL,
        description=f"A commit message as git keeps it: header, blank line, body, blank line, "
        f"footers (git trailers). At most {MAX_MESSAGE} characters.",
    ),
]
Sha = Annotated[str, msgspec.Meta(pattern=SHA, description="The commit's sha: 7 to 40 hexadecimal digits.")]


class ValidateCommit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    message: Message


class GenerateCommit(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    task_id: Annotated[
        UUID, msgspec.Meta(description="One of my tasks: its title is what the commit is for.")
    ]
    diff_summary: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=MAX_DIFF,
            pattern=NO_NUL,
            description=f"What the change does, e.g. `git diff --stat` and a few words (at most {MAX_DIFF} "
            "characters).",
        ),
    ]
    model_id: Annotated[
        UUID | None, msgspec.Meta(description="An enabled AI model; absent or null: the default one.")
    ] = None


class RecordCommitBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    sha: Sha
    message: Message
    task_id: Annotated[
        UUID | None, msgspec.Meta(description="A task of the same project the commit is for, if any.")
    ] = None
    committed_at: (
        Annotated[
            datetime,
            msgspec.Meta(tz=True, description="When it was committed (with a time zone); absent: now."),
        ]
        | None
    ) = None


class ViolationResponse(msgspec.Struct, frozen=True, kw_only=True):
    rule: Annotated[str, msgspec.Meta(description="commitlint's rule name, e.g. `subject-case`.")]
    level: Annotated[
        Literal["error", "warning"],
        msgspec.Meta(description="`error` makes the message invalid; `warning` is reported only."),
    ]
    message: str

    @classmethod
    def of(cls, violation: Violation) -> ViolationResponse:
        return cls(rule=violation.rule, level=violation.level, message=violation.message)


class FooterResponse(msgspec.Struct, frozen=True, kw_only=True):
    token: Annotated[str, msgspec.Meta(description="The trailer's token (`Refs`, `BREAKING CHANGE`...).")]
    value: str

    @classmethod
    def of(cls, footer: Footer) -> FooterResponse:
        return cls(token=footer.token, value=footer.value)


class ValidationResponse(msgspec.Struct, frozen=True, kw_only=True):
    valid: Annotated[bool, msgspec.Meta(description="No violation at level `error`.")]
    violations: Annotated[
        list[ViolationResponse], msgspec.Meta(description="Every violation, errors and warnings.")
    ]
    type: str | None
    scope: str | None
    breaking: bool
    subject: str | None
    body: str | None
    footers: list[FooterResponse]

    @classmethod
    def of(cls, checked: Checked) -> ValidationResponse:
        parsed = checked.parsed
        return cls(
            valid=checked.valid,
            violations=[ViolationResponse.of(v) for v in checked.violations],
            type=parsed.type,
            scope=parsed.scope,
            breaking=parsed.breaking,
            subject=parsed.subject,
            body=parsed.body,
            footers=[FooterResponse.of(f) for f in parsed.footers],
        )


class GeneratedResponse(msgspec.Struct, frozen=True, kw_only=True):
    message: Annotated[str, msgspec.Meta(description="The message, valid under config-conventional.")]
    validation: ValidationResponse
    model: Annotated[str, msgspec.Meta(description="The model that wrote it (`offline`...).")]
    attempts: Annotated[int, msgspec.Meta(description="1, or 2 when the first answer was invalid.")]


class CommitResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    project_id: UUID
    task_id: UUID | None
    sha: str
    message: str
    type: str
    scope: str | None
    breaking: bool
    breaking_note: Annotated[str | None, msgspec.Meta(description="What breaks, when it is breaking.")]
    subject: str
    body: str | None
    footers: list[FooterResponse]
    committed_at: datetime
    created_at: datetime

    @classmethod
    def of(cls, commit: Commit) -> CommitResponse:
        return cls(
            id=commit.id,
            project_id=commit.project_id,
            task_id=commit.task_id,
            sha=commit.sha,
            message=commit.message,
            type=commit.type,
            scope=commit.scope,
            breaking=commit.breaking,
            breaking_note=commit.breaking_note,
            subject=commit.subject,
            body=commit.body,
            footers=[FooterResponse.of(f) for f in commit.footers],
            committed_at=commit.committed_at,
            created_at=commit.created_at,
        )


class ChangelogEntry(msgspec.Struct, frozen=True, kw_only=True):
    commit_id: UUID
    sha: str
    scope: str | None
    subject: str
    breaking_note: str | None
    committed_at: datetime


class ChangelogSection(msgspec.Struct, frozen=True, kw_only=True):
    title: Annotated[str, msgspec.Meta(description="`BREAKING CHANGES`, `Features`, `Bug Fixes`...")]
    type: Annotated[str | None, msgspec.Meta(description="The commit type; null for the breaking changes.")]
    hidden: Annotated[
        bool, msgspec.Meta(description="conventional-changelog's preset would leave this section out.")
    ]
    entries: list[ChangelogEntry]


class ChangelogResponse(msgspec.Struct, frozen=True, kw_only=True):
    project_id: UUID
    since_sha: str | None
    since: datetime | None
    sections: list[ChangelogSection]

    @classmethod
    def of(cls, log: Changelog) -> ChangelogResponse:
        return cls(
            project_id=log.project_id,
            since_sha=log.since_sha,
            since=log.since,
            sections=[
                ChangelogSection(
                    title=s.title,
                    type=s.type,
                    hidden=s.hidden,
                    entries=[
                        ChangelogEntry(
                            commit_id=c.id,
                            sha=c.sha,
                            scope=c.scope,
                            subject=c.subject,
                            breaking_note=c.breaking_note,
                            committed_at=c.committed_at,
                        )
                        for c in s.commits
                    ],
                )
                for s in log.sections
            ],
        )
