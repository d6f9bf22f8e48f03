"""The ``chat.model-registry`` consumer: ``orchestrator.ai_model.*`` → chat's replica of the registry.

The shared ``EventConsumer`` decodes the contract and records the inbox row in the
transaction the handler's unit of work joins, so a redelivered event changes nothing twice.
The sealed API key goes into the replica as the event carried it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from chat import SERVICE
from chat.application.ports import UnitOfWork
from chat.application.ports.replicas import ModelReplica
from chat.application.replicas import ModelDeleted, on_model_changed, on_model_deleted
from shared.contracts import orchestrator
from shared.messaging.consumer import ConsumerSpec

NAME = f"{SERVICE}.model-registry"


def model_of(event: orchestrator.AIModelChanged) -> ModelReplica:
    return ModelReplica(
        id=event.model_id,
        name=event.name,
        provider=event.provider,
        base_url=event.base_url,
        model=event.model,
        parameters=event.parameters,
        enabled=event.enabled,
        is_default=event.is_default,
        sealed_api_key=event.sealed_api_key,
        changed_at=event.occurred_at,
    )


def model_registry(uow_on: Callable[[AsyncConnection], UnitOfWork]) -> ConsumerSpec:
    """The consumer spec ``ServiceRoot.consumers`` lists."""

    async def on_event(event: object, conn: AsyncConnection) -> None:
        if isinstance(event, orchestrator.AIModelCreated | orchestrator.AIModelUpdated):
            await on_model_changed(model_of(event), uow_on(conn))
        elif isinstance(event, orchestrator.AIModelDeleted):
            deleted = ModelDeleted(model_id=event.model_id, name=event.name, at=event.occurred_at)
            await on_model_deleted(deleted, uow_on(conn))
        # anything else on orchestrator's stream is not this consumer's business

    return ConsumerSpec(
        name=NAME,
        stream=orchestrator.STREAM,
        subjects=(
            orchestrator.AIModelCreated.subject,
            orchestrator.AIModelUpdated.subject,
            orchestrator.AIModelDeleted.subject,
        ),
        decoder=orchestrator.decoder,
        handler=on_event,
    )
