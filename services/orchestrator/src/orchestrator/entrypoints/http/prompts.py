"""``/prompts`` and ``/projects/{id}/prompts``: versioned prompts with labels.

Every version has its own id; the prompt (the lineage) has its version 1's id, and any
version's id leads to it. An edit is a new immutable version; ``If-Match`` names the latest
version the editor saw (412 when another edit came first). Another user's prompt is a 404.
"""

from __future__ import annotations

from typing import Annotated, Final
from uuid import UUID

from litestar import Controller, Response, delete, get, post, put
from litestar.datastructures import ResponseHeader
from litestar.params import JSONBody, PathParameter, QueryParameter

from orchestrator.application import prompts as use_cases
from orchestrator.application.prompt_generation import GeneratePrompt, generate_prompt
from orchestrator.application.prompts import Versioned
from orchestrator.domain.prompts import LABEL_PATTERN, MAX_CONTENT, MAX_TITLE
from orchestrator.entrypoints.http.dependencies import ModelsDep, UnitOfWorkDep
from orchestrator.entrypoints.http.openapi import problems
from orchestrator.entrypoints.http.parameters import Cursor, Limit, ProjectId
from orchestrator.entrypoints.http.prompt_schemas import (
    DiffResponse,
    LabelMove,
    LabelsResponse,
    PromptCreate,
    PromptEdit,
    PromptGenerate,
    PromptResponse,
    PromptSummary,
    PromptVersionItem,
)
from shared.auth import BEARER_SECURITY, CurrentPrincipal
from shared.http.preconditions import IfMatch, etag, expected_version
from shared.kernel.pagination import Page

PROMPT_BODY_LIMIT: Final = 12 * (MAX_CONTENT + MAX_TITLE) + 4096
"""Bytes of the longest valid prompt body (each character a JSON-escaped surrogate pair, 12
bytes): a prompt within the documented lengths is never refused as too large (413)."""
PromptId = Annotated[UUID, PathParameter(description="Any version of one of my prompts, by its `id`.")]
LabelName = Annotated[
    str,
    PathParameter(pattern=LABEL_PATTERN, max_length=40, description="A label, e.g. `current`, `production`."),
]
ETAG = [
    ResponseHeader(
        name="ETag",
        description='The version as an entity tag (`"3"`): send it as `If-Match` to edit.',
        documentation_only=True,
    )
]


def _tagged(versioned: Versioned, status_code: int = 200) -> Response[PromptResponse]:
    return Response(
        PromptResponse.of(versioned),
        status_code=status_code,
        headers={"ETag": etag(versioned.prompt.version)},
    )


class ProjectPromptsController(Controller):
    path = "/api/v1/projects/{project_id:uuid}/prompts"
    tags = ["prompts"]
    security = BEARER_SECURITY

    @post(
        "/",
        operation_id="create_prompt",
        summary="Write a new prompt",
        responses=problems(400, 401, 404, 409, 413),
        response_headers=ETAG,
        request_max_body_size=PROMPT_BODY_LIMIT,
    )
    async def create_prompt(
        self,
        project_id: ProjectId,
        data: JSONBody[PromptCreate],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
    ) -> Response[PromptResponse]:
        """Version 1 of a new prompt of my project, written by hand and labelled `current`; its
        id is the prompt's id for good. 409 if the project is archived. Announced as
        `orchestrator.prompt.created`."""
        command = use_cases.CreatePrompt(
            owner_id=principal.user_id, project_id=project_id, title=data.title, content=data.content
        )
        return _tagged(await use_cases.create_prompt(command, uow), 201)

    @post(
        "/generate",
        operation_id="generate_prompt",
        summary="Generate a prompt from a completed interview",
        responses=problems(400, 401, 404, 409, 413, 502, 503, 504),
        response_headers=ETAG,
    )
    async def generate_prompt(
        self,
        project_id: ProjectId,
        data: JSONBody[PromptGenerate],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        models: ModelsDep,
    ) -> Response[PromptResponse]:
        """Version 1 of a new prompt written by the AI model from a completed interview of this
        project (its assessment and answers), as structured requirements. 404 for an interview
        that is not this project's, 409 for one not completed; a model failure is a 502, 503 or
        504 and writes nothing."""
        command = GeneratePrompt(
            owner_id=principal.user_id,
            project_id=project_id,
            interview_id=data.interview_id,
            title=data.title,
        )
        return _tagged(await generate_prompt(command, uow, models=models), 201)

    @get("/", operation_id="list_prompts", summary="A project's prompts", responses=problems(400, 401, 404))
    async def list_prompts(
        self,
        project_id: ProjectId,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[PromptSummary]:
        """My project's prompts, newest first, each with its labels and latest version (without
        its text): one page, with the cursor of the next (`null` on the last)."""
        page = await use_cases.list_prompts(project_id, principal.user_id, uow, cursor=cursor, limit=limit)
        return page.map(PromptSummary.of)


class PromptsController(Controller):
    path = "/api/v1/prompts/{prompt_id:uuid}"
    tags = ["prompts"]
    security = BEARER_SECURITY

    @get(
        "/",
        operation_id="get_prompt",
        summary="A prompt version",
        responses=problems(400, 401, 404),
        response_headers=ETAG,
    )
    async def get_prompt(
        self, prompt_id: PromptId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> Response[PromptResponse]:
        """The version with this id, its text and the labels pointing at it; the `ETag` is its
        version number (an edit's `If-Match` must name the latest version)."""
        return _tagged(await use_cases.read_prompt(prompt_id, principal.user_id, uow))

    @delete(
        "/", operation_id="delete_prompt", summary="Delete a prompt", responses=problems(400, 401, 404, 409)
    )
    async def delete_prompt(
        self, prompt_id: PromptId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> None:
        """Deletes the whole prompt this version belongs to: every version and label. 409 if the
        project is archived. Announced as `orchestrator.prompt.deleted`."""
        await use_cases.delete_prompt(prompt_id, principal.user_id, uow)

    @post(
        "/versions",
        operation_id="edit_prompt",
        summary="Edit a prompt: write its next version",
        responses=problems(400, 401, 404, 409, 412, 413),
        response_headers=ETAG,
        request_max_body_size=PROMPT_BODY_LIMIT,
    )
    async def edit_prompt(
        self,
        prompt_id: PromptId,
        data: JSONBody[PromptEdit],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        if_match: IfMatch = None,
    ) -> Response[PromptResponse]:
        """A new immutable version edited from this one (its `parent_id`), numbered latest + 1;
        labels do not move. With `If-Match` (the latest version's `ETag`) a stale edit is a 412:
        of two editors who saw the same version, one wins. Announced as
        `orchestrator.prompt.created`."""
        command = use_cases.EditPrompt(
            owner_id=principal.user_id,
            prompt_id=prompt_id,
            content=data.content,
            title=data.title,
            expected_version=expected_version(if_match),
        )
        return _tagged(await use_cases.edit_prompt(command, uow), 201)

    @get(
        "/versions",
        operation_id="list_prompt_versions",
        summary="A prompt's history",
        responses=problems(400, 401, 404),
    )
    async def list_versions(
        self,
        prompt_id: PromptId,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[PromptVersionItem]:
        """Every version of the prompt, newest first (without their text; read one by its id):
        one page, with the cursor of the next (`null` on the last)."""
        lineage, page = await use_cases.prompt_history(
            prompt_id, principal.user_id, uow, cursor=cursor, limit=limit
        )
        return page.map(lambda p: PromptVersionItem.of(p, lineage))

    @get(
        "/diff",
        operation_id="diff_prompt_versions",
        summary="Compare two versions",
        responses=problems(400, 401, 404),
    )
    async def diff(
        self,
        prompt_id: PromptId,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        from_version: Annotated[
            int,
            QueryParameter(name="from", ge=1, le=2**31 - 1, description="The older side's version number."),
        ],
        to_version: Annotated[
            int, QueryParameter(name="to", ge=1, le=2**31 - 1, description="The newer side's version number.")
        ],
    ) -> DiffResponse:
        """The unified diff (`diff -u`) from version `from` to version `to` of the prompt, with
        the lines added and removed; any two versions, either order. 404 for a version it does
        not have."""
        diff = await use_cases.diff_prompt(
            prompt_id, principal.user_id, uow, old=from_version, new=to_version
        )
        return DiffResponse.of(diff)

    @get(
        "/labels/{name:str}",
        operation_id="get_labelled_prompt",
        summary="The version a label points at",
        responses=problems(400, 401, 404),
        response_headers=ETAG,
    )
    async def labelled(
        self, prompt_id: PromptId, name: LabelName, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> Response[PromptResponse]:
        """The version the label names (e.g. `current`, `production`), with its text: what a
        client fetches to use the prompt. 404 for a label the prompt does not have."""
        return _tagged(await use_cases.labelled_version(prompt_id, principal.user_id, name, uow))

    @put(
        "/labels/{name:str}",
        operation_id="move_prompt_label",
        summary="Point a label at a version",
        responses=problems(400, 401, 404, 409, 413),
    )
    async def move_label(
        self,
        prompt_id: PromptId,
        name: LabelName,
        data: JSONBody[LabelMove],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
    ) -> LabelsResponse:
        """Points the label at the version (creating the label if new); moving `current` back to
        an earlier version is the rollback. Labels move only when asked: a new version moves
        none. 404 for a version the prompt does not have; 409 past 20 labels or for an archived
        project. Announced as `orchestrator.prompt.label_moved` when it moved."""
        lineage = await use_cases.move_label(prompt_id, principal.user_id, name, data.version, uow)
        return LabelsResponse.of(lineage)

    @delete(
        "/labels/{name:str}",
        operation_id="remove_prompt_label",
        summary="Remove a label",
        responses=problems(400, 401, 404, 409),
    )
    async def remove_label(
        self, prompt_id: PromptId, name: LabelName, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> None:
        """Removes the label; `current` cannot be removed (409), only moved. Announced as
        `orchestrator.prompt.label_moved` with a null version."""
        await use_cases.remove_label(prompt_id, principal.user_id, name, uow)
