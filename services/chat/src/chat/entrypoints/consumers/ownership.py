"""The ``chat.ownership`` consumer: ``orchestrator.project.*`` and ``orchestrator.task.*`` → the
ownership replica that decides which projects and tasks a conversation may link to.

The shared ``EventConsumer`` decodes the contract and records the inbox row in the
transaction the handler's unit of work joins, so a redelivered event changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncConnection

from chat import SERVICE
from chat.application.ownership import on_project_changed, on_task_changed
from chat.application.ports import UnitOfWork
from chat.application.ports.ownership import ProjectFact, TaskFact
from shared.contracts import orchestrator
from shared.messaging.consumer import ConsumerSpec

NAME = f"{SERVICE}.ownership"

_PROJECT_EVENTS = (orchestrator.ProjectCreated, orchestrator.ProjectUpdated, orchestrator.ProjectDeleted)
_TASK_EVENTS = (
    orchestrator.TaskCreated,
    orchestrator.TaskUpdated,
    orchestrator.TaskMoved,
    orchestrator.TaskDeleted,
)


def project_fact(
    event: orchestrator.ProjectCreated | orchestrator.ProjectUpdated | orchestrator.ProjectDeleted,
) -> ProjectFact:
    return ProjectFact(
        project_id=event.project_id,
        owner_id=event.owner_id,
        deleted=isinstance(event, orchestrator.ProjectDeleted),
        at=event.occurred_at,
    )


def task_fact(
    event: orchestrator.TaskCreated
    | orchestrator.TaskUpdated
    | orchestrator.TaskMoved
    | orchestrator.TaskDeleted,
) -> TaskFact:
    return TaskFact(
        task_id=event.task_id,
        project_id=event.project_id,
        owner_id=event.owner_id,
        deleted=isinstance(event, orchestrator.TaskDeleted),
        at=event.occurred_at,
    )


def ownership(uow_on: Callable[[AsyncConnection], UnitOfWork]) -> ConsumerSpec:
    """The consumer spec ``ServiceRoot.consumers`` lists."""

    async def on_event(event: object, conn: AsyncConnection) -> None:
        if isinstance(event, _PROJECT_EVENTS):
            await on_project_changed(project_fact(event), uow_on(conn))
        elif isinstance(event, _TASK_EVENTS):
            await on_task_changed(task_fact(event), uow_on(conn))
        # anything else on orchestrator's stream is not this consumer's business

    return ConsumerSpec(
        name=NAME,
        stream=orchestrator.STREAM,
        subjects=tuple(kind.subject for kind in (*_PROJECT_EVENTS, *_TASK_EVENTS)),
        decoder=orchestrator.decoder,
        handler=on_event,
    )
