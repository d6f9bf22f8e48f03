"""Commits: validate and generate messages, record commits on a project, its changelog.

Every project and commit is the caller's: another user's is a 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType
from litestar.params import JSONBody, PathParameter, QueryParameter

from orchestrator.application import changelog as changelogs
from orchestrator.application import commits as use_cases
from orchestrator.application.commit_messages import GenerateCommitMessage, generate_commit_message
from orchestrator.domain.commits import InvalidCommitMessage
from orchestrator.domain.conventional import CommitType
from orchestrator.entrypoints.http.commit_schemas import (
    SHA,
    ChangelogResponse,
    CommitResponse,
    GenerateCommit,
    GeneratedResponse,
    RecordCommitBody,
    ValidateCommit,
    ValidationResponse,
)
from orchestrator.entrypoints.http.dependencies import ModelsDep, UnitOfWorkDep
from orchestrator.entrypoints.http.openapi import problems
from orchestrator.entrypoints.http.parameters import Cursor, Limit, ProjectId
from shared.auth import BEARER_SECURITY, CurrentPrincipal
from shared.http.problems import FieldError, Problem, problem_response
from shared.kernel.errors import InvalidInput
from shared.kernel.pagination import Page, clamp_limit, decode_cursor, page_from_rows

CommitId = Annotated[UUID, PathParameter(description="A commit recorded on one of my projects.")]
Since = Annotated[
    str | None,
    QueryParameter(
        description="Only commits committed after this time (RFC 3339 with offset: `2026-01-31T09:00:00Z`).",
        schema_extra={"oneOf": None, "type": OpenAPIType.STRING, "format": OpenAPIFormat.DATE_TIME},
    ),
]
MARKDOWN = "text/markdown"
_AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]


def _rfc3339(text: str | None) -> datetime | None:
    """``since`` as the document states it: Litestar reads a ``datetime`` parameter leniently
    (``0.5`` would be a Unix time, a time without offset a naive one), so it is parsed here."""
    if text is None:
        return None
    try:
        return msgspec.convert(text, _AwareTime, strict=True)
    except msgspec.ValidationError:
        raise InvalidInput(
            "since must be an RFC 3339 date-time with its offset, such as 2026-01-31T09:00:00Z"
        ) from None


def _invalid_message(request: Request[Any, Any, Any], exc: InvalidCommitMessage) -> Response[Problem]:
    """400 naming every violated rule, each as a field error on ``$.message``."""
    errors = [FieldError(field="$.message", message=f"{v.rule}: {v.message}") for v in exc.violations]
    return problem_response(request, 400, exc.detail, title="Invalid commit message", field_errors=errors)


class CommitMessagesController(Controller):
    path = "/api/v1/commits"
    tags = ["commits"]
    security = BEARER_SECURITY

    @post(
        "/validate",
        operation_id="validate_commit_message",
        summary="Check a commit message against config-conventional",
        responses=problems(400, 401, 413),
        status_code=200,
    )
    async def validate(
        self, data: JSONBody[ValidateCommit], principal: CurrentPrincipal
    ) -> ValidationResponse:
        """Parses the message (Conventional Commits 1.0) and applies commitlint's
        config-conventional rules: every violation with its rule name, level (`error` makes the
        message invalid, `warning` does not) and message, and the parts the parser found."""
        return ValidationResponse.of(use_cases.check_message(data.message))

    @post(
        "/generate",
        operation_id="generate_commit_message",
        summary="Write a commit message for a task (AI)",
        responses=problems(400, 401, 404, 413, 502, 503, 504),
        status_code=200,
    )
    async def generate(
        self,
        data: JSONBody[GenerateCommit],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        models: ModelsDep,
    ) -> GeneratedResponse:
        """An AI model writes a conventional commit message from the task's title and the diff
        summary; it passes validation (an invalid answer is retried once, then a 502). Nothing is
        recorded: send it to `POST /projects/{id}/commits` with the sha once committed."""
        generated = await generate_commit_message(
            GenerateCommitMessage(
                owner_id=principal.user_id,
                task_id=data.task_id,
                diff_summary=data.diff_summary,
                model_id=data.model_id,
            ),
            uow,
            models,
        )
        return GeneratedResponse(
            message=generated.message,
            validation=ValidationResponse.of(generated.checked),
            model=generated.model,
            attempts=generated.attempts,
        )

    @get(
        "/{commit_id:uuid}",
        operation_id="get_commit",
        summary="One recorded commit",
        responses=problems(400, 401, 404),
    )
    async def get_commit(
        self, commit_id: CommitId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> CommitResponse:
        """The commit with its message taken apart (type, scope, breaking, subject, body, footers)."""
        return CommitResponse.of(await use_cases.get_commit(commit_id, principal.user_id, uow))

    @delete(
        "/{commit_id:uuid}",
        operation_id="delete_commit",
        summary="Remove a recorded commit",
        responses=problems(400, 401, 404, 409),
        status_code=204,
    )
    async def delete_commit(
        self, commit_id: CommitId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> None:
        """Removes the commit from its project's history and changelog (409 when the project is
        archived). Announced as `orchestrator.commit.deleted`."""
        await use_cases.delete_commit(commit_id, principal.user_id, uow)


class ProjectCommitsController(Controller):
    path = "/api/v1/projects/{project_id:uuid}"
    tags = ["commits"]
    security = BEARER_SECURITY
    exception_handlers = {InvalidCommitMessage: _invalid_message}

    @post(
        "/commits",
        operation_id="record_commit",
        summary="Record a commit on a project",
        responses=problems(400, 401, 404, 409, 413),
    )
    async def record_commit(
        self,
        project_id: ProjectId,
        data: JSONBody[RecordCommitBody],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
    ) -> CommitResponse:
        """Records a commit: its message is parsed into type, scope, breaking, subject, body and
        footers. A message with a config-conventional error is a 400 listing every violation; a
        sha already recorded in the project is a 409, as is an archived project; `task_id` must
        be a task of the same project. Announced as `orchestrator.commit.recorded`."""
        command = use_cases.RecordCommit(
            project_id=project_id,
            owner_id=principal.user_id,
            sha=data.sha,
            message=data.message,
            task_id=data.task_id,
            committed_at=data.committed_at,
        )
        return CommitResponse.of(await use_cases.record_commit(command, uow))

    @get(
        "/commits",
        operation_id="list_commits",
        summary="A project's commits",
        responses=problems(400, 401, 404),
    )
    async def list_commits(
        self,
        project_id: ProjectId,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        type: Annotated[CommitType | None, QueryParameter(description="Only commits of this type.")] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[CommitResponse]:
        """The project's commits, newest first (by commit time): one page, with the cursor of the
        next (`null` on the last)."""
        size = clamp_limit(limit)
        after = None if cursor is None else decode_cursor(cursor, tuple[datetime, UUID])
        rows = await use_cases.list_commits(
            project_id, principal.user_id, uow, after=after, limit=size + 1, type=type
        )
        return page_from_rows(rows, size, lambda c: (c.committed_at, c.id)).map(CommitResponse.of)

    @get(
        "/changelog",
        operation_id="get_changelog",
        summary="A project's changelog, grouped by type",
        responses=problems(400, 401, 404),
    )
    async def get_changelog(
        self,
        request: Request[Any, Any, Any],
        project_id: ProjectId,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        since_sha: Annotated[
            str | None,
            QueryParameter(pattern=SHA, description="Only commits after this recorded one (it excluded)."),
        ] = None,
        since: Since = None,
    ) -> Response[ChangelogResponse | str]:
        """The project's commits since a sha or a time (all when neither is given), grouped as
        conventional-changelog does: BREAKING CHANGES first, then Features, Bug Fixes and the
        other types. JSON, or Markdown when the `Accept` header prefers `text/markdown`. An
        unknown `since_sha` is a 404; `since_sha` and `since` together are a 400."""
        log = await changelogs.changelog(
            project_id, principal.user_id, uow, since_sha=since_sha, since=_rfc3339(since)
        )
        if request.accept.best_match(["application/json", MARKDOWN], default="application/json") == MARKDOWN:
            return Response(changelogs.markdown(log), media_type=f"{MARKDOWN}; charset=utf-8")
        return Response(ChangelogResponse.of(log))


@get(
    "/api/v1/tasks/{task_id:uuid}/commits",
    operation_id="list_task_commits",
    summary="A task's commits",
    tags=["commits"],
    security=BEARER_SECURITY,
    responses=problems(400, 401, 404),
)
async def list_task_commits(
    task_id: Annotated[UUID, PathParameter(description="One of my tasks, by its `id`.")],
    principal: CurrentPrincipal,
    uow: UnitOfWorkDep,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[CommitResponse]:
    """The commits recorded for the task (its `task_id`), newest first: one page, with the cursor
    of the next (`null` on the last)."""
    size = clamp_limit(limit)
    after = None if cursor is None else decode_cursor(cursor, tuple[datetime, UUID])
    rows = await use_cases.task_commits(task_id, principal.user_id, uow, after=after, limit=size + 1)
    return page_from_rows(rows, size, lambda c: (c.committed_at, c.id)).map(CommitResponse.of)
