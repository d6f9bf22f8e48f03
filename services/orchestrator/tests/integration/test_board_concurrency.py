"""Writes racing on one board, as real concurrent transactions on PostgreSQL.

The HTTP test client runs the app behind a blocking portal, so requests sent "at once" through
it arrive one after the other; these tests drive the use cases on their own units of work in
one event loop instead, so the transactions truly overlap.
"""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest
import sqlalchemy as sa

from orchestrator.adapters.messaging.translators import to_contract
from orchestrator.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from orchestrator.application import projects, tasks
from orchestrator.application.task_dependencies import SetDependencies, set_dependencies
from orchestrator.application.tasks import StaleTask
from orchestrator.bootstrap import ROOT
from shared.kernel.errors import Conflict
from shared.messaging.outbox import OutboxWriter

pytestmark = pytest.mark.asyncio
OWNER = UUID(int=7)


@pytest.fixture
def uow(service_engine):
    outbox = OutboxWriter(ROOT.event_source)
    return lambda: SqlAlchemyUnitOfWork.from_engine(service_engine, outbox, to_contract)


async def a_task(uow) -> tuple[UUID, UUID]:
    project = await projects.create_project(projects.CreateProject(owner_id=OWNER, name="P"), uow())
    task = await tasks.create_task(
        tasks.CreateTask(owner_id=OWNER, project_id=project.project.id, title="T", status="todo"), uow()
    )
    return project.project.id, task.id


async def test_of_two_moves_from_the_same_version_at_once_one_wins_and_the_other_sees_the_winner(uow):
    _, task_id = await a_task(uow)

    outcomes = await asyncio.gather(
        *(
            tasks.move_task(
                tasks.MoveTask(owner_id=OWNER, task_id=task_id, status=s, expected_version=1), uow()
            )
            for s in ("in_progress", "review")
        ),
        return_exceptions=True,
    )

    [won] = [o for o in outcomes if not isinstance(o, BaseException)]
    [lost] = [o for o in outcomes if isinstance(o, BaseException)]
    assert isinstance(lost, StaleTask)
    assert (lost.task.version, lost.task.status) == (2, won.status)


async def test_a_move_waiting_on_an_archive_in_progress_is_refused_once_the_archive_commits(
    uow, service_engine
):
    project_id, task_id = await a_task(uow)

    async with service_engine.begin() as conn:  # an archive holding the project's row
        await conn.execute(sa.text("SELECT 1 FROM projects WHERE id = :id FOR UPDATE"), {"id": project_id})
        move = asyncio.ensure_future(
            tasks.move_task(tasks.MoveTask(owner_id=OWNER, task_id=task_id, status="done"), uow())
        )
        await asyncio.sleep(0.3)
        assert not move.done()
        await conn.execute(
            sa.text("UPDATE projects SET status = 'archived', archived_at = now() WHERE id = :id"),
            {"id": project_id},
        )

    with pytest.raises(Conflict, match="archived"):
        await move
    assert (await tasks.get_task(OWNER, task_id, uow())).status == "todo"


async def test_two_dependency_changes_at_once_cannot_close_a_cycle_between_them(uow):
    project = await projects.create_project(projects.CreateProject(owner_id=OWNER, name="P"), uow())
    a, b = [
        await tasks.create_task(
            tasks.CreateTask(owner_id=OWNER, project_id=project.project.id, title=t), uow()
        )
        for t in "AB"
    ]
    outcomes = await asyncio.gather(
        set_dependencies(SetDependencies(owner_id=OWNER, task_id=a.id, dependencies=(b.id,)), uow()),
        set_dependencies(SetDependencies(owner_id=OWNER, task_id=b.id, dependencies=(a.id,)), uow()),
        return_exceptions=True,
    )

    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "Task"]
