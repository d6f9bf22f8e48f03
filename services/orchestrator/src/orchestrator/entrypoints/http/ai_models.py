"""``/ai-models``: the AI-model registry. Admins write; users read the enabled models."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody, PathParameter

from orchestrator.application import ai_models as use_cases
from orchestrator.application.model_checks import check_ai_model
from orchestrator.entrypoints.http.ai_model_schemas import (
    AIModelChange,
    AIModelCreate,
    AIModelResponse,
    ModelCheckResponse,
    parameters_dict,
)
from orchestrator.entrypoints.http.dependencies import ConnectorDep, UnitOfWorkDep, VaultDep
from orchestrator.entrypoints.http.openapi import problems
from orchestrator.entrypoints.http.parameters import Cursor, Limit
from shared.auth import BEARER_SECURITY, CurrentPrincipal, admin_guard
from shared.kernel.pagination import Page

ModelId = Annotated[UUID, PathParameter(description="The model's `id`.")]


class AIModelsController(Controller):
    path = "/api/v1/ai-models"
    tags = ["ai-models"]
    security = BEARER_SECURITY

    @get("/", operation_id="list_ai_models", summary="The AI models", responses=problems(400, 401))
    async def list_ai_models(
        self, principal: CurrentPrincipal, uow: UnitOfWorkDep, cursor: Cursor = None, limit: Limit = None
    ) -> Page[AIModelResponse]:
        """The registry by name: every model for an admin, the enabled ones for a user. One
        page, with the cursor of the next (`null` on the last). Keys are shown masked."""
        page = await use_cases.list_ai_models(uow, admin=principal.is_admin, cursor=cursor, limit=limit)
        return page.map(AIModelResponse.of)

    @get(
        "/{model_id:uuid}",
        operation_id="get_ai_model",
        summary="One AI model",
        responses=problems(400, 401, 404),
    )
    async def get_ai_model(
        self, model_id: ModelId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> AIModelResponse:
        """The model; for a user a disabled model is a 404, as is an unknown id."""
        return AIModelResponse.of(await use_cases.visible_ai_model(model_id, uow, admin=principal.is_admin))

    @post(
        "/",
        operation_id="create_ai_model",
        summary="Register an AI model",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 409, 413),
    )
    async def create_ai_model(
        self, data: JSONBody[AIModelCreate], principal: CurrentPrincipal, uow: UnitOfWorkDep, vault: VaultDep
    ) -> AIModelResponse:
        """Adds a model to the registry; its API key is stored encrypted and answered masked. A
        409 if the name is taken. Announced as `orchestrator.ai_model.created` (the key sealed
        for the services that call models). Admin only."""
        command = use_cases.CreateAIModel(
            name=data.name,
            provider=data.provider,
            base_url=data.base_url,
            model=data.model,
            parameters=parameters_dict(data.parameters),
            enabled=data.enabled,
            is_default=data.is_default,
            api_key=data.api_key,
        )
        return AIModelResponse.of(await use_cases.create_ai_model(command, uow, vault=vault))

    @patch(
        "/{model_id:uuid}",
        operation_id="update_ai_model",
        summary="Change an AI model",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 404, 409, 413),
    )
    async def update_ai_model(
        self,
        model_id: ModelId,
        data: JSONBody[AIModelChange],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        vault: VaultDep,
    ) -> AIModelResponse:
        """Changes the fields given; a new `api_key` replaces the stored one, `remove_api_key`
        forgets it. Announced as `orchestrator.ai_model.updated`. Admin only."""
        command = use_cases.UpdateAIModel(
            model_id=model_id,
            changes=data.changes(),
            api_key=data.api_key,
            remove_api_key=data.remove_api_key,
        )
        return AIModelResponse.of(await use_cases.update_ai_model(command, uow, vault=vault))

    @delete(
        "/{model_id:uuid}",
        operation_id="delete_ai_model",
        summary="Remove an AI model",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 404),
        status_code=204,
    )
    async def delete_ai_model(
        self, model_id: ModelId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> None:
        """Removes the model and its key; requests that named it get the default model. Announced
        as `orchestrator.ai_model.deleted`. Admin only."""
        await use_cases.delete_ai_model(model_id, uow)

    @post(
        "/{model_id:uuid}/test",
        operation_id="test_ai_model",
        summary="Check that an AI model answers",
        guards=[admin_guard],
        responses=problems(400, 401, 403, 404),
        status_code=200,
    )
    async def test_ai_model(
        self, model_id: ModelId, principal: CurrentPrincipal, uow: UnitOfWorkDep, connector: ConnectorDep
    ) -> ModelCheckResponse:
        """Sends the model a tiny request and reports the latency, or the provider's error
        (kind and message) with `ok` false: an unreachable provider is an answer, not a
        failure of this call. Works on a disabled model too. Admin only."""
        return ModelCheckResponse.of(await check_ai_model(model_id, uow, connector=connector))
