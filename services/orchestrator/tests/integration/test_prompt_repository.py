"""Prompt lineages and versions read back from PostgreSQL as they were written."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from orchestrator.adapters.messaging.translators import to_contract
from orchestrator.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from orchestrator.domain.projects import Project
from orchestrator.domain.prompts import PromptLineage
from shared.kernel.ids import new_id
from shared.messaging.outbox import OutboxWriter

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def new_uow(service_engine):
    outbox = OutboxWriter("/aiorch/orchestrator")
    return lambda: SqlAlchemyUnitOfWork.from_engine(service_engine, outbox, to_contract)


async def saved_project(new_uow) -> Project:
    project = Project.create(id=new_id(), owner_id=new_id(), name="Shop", description="", now=NOW)
    project.pull_events()  # the projects' own tests cover their events
    async with new_uow() as uow:
        await uow.projects.add(project)
        await uow.commit()
    return project


async def test_a_lineage_and_its_versions_read_back_as_written(new_uow):
    project = await saved_project(new_uow)
    lineage, first = PromptLineage.start(
        id=new_id(), project_id=project.id, owner_id=project.owner_id, title="Spec", content="a\n", now=NOW
    )
    async with new_uow() as uow:
        await uow.prompts.add(lineage, first)
        await uow.commit()
    async with new_uow() as uow:
        locked = await uow.prompts.lineage(lineage.id, for_update=True)
        assert locked is not None
        second = locked.revise(
            first,
            id=new_id(),
            title=None,
            content="b\n",
            expected_version=1,
            author=project.owner_id,
            now=NOW,
        )
        locked.move_label("production", 2, NOW)
        await uow.prompts.add_version(locked, second)
        await uow.commit()

    async with new_uow() as uow:
        assert await uow.prompts.get(first.id) == first
        assert await uow.prompts.get(second.id) == second
        assert await uow.prompts.get_version(lineage.id, 2) == second
        again = await uow.prompts.lineage(lineage.id)
        assert again is not None
        assert (again.latest_version, again.labels, again.owner_id) == (
            2,
            {"current": 1, "production": 2},
            project.owner_id,
        )
        newest_first = await uow.prompts.versions(lineage.id, before_version=None, limit=10)
        older = await uow.prompts.versions(lineage.id, before_version=2, limit=10)
        assert [p.version for p in newest_first] == [2, 1]
        assert [p.version for p in older] == [1]
        [summary] = await uow.prompts.lineages(project.id, before_id=None, limit=10)
        assert (summary.lineage.id, summary.latest) == (lineage.id, second)


async def test_a_version_is_read_with_its_lineage_only_through_its_owner(new_uow):
    project = await saved_project(new_uow)
    lineage, first = PromptLineage.start(
        id=new_id(), project_id=project.id, owner_id=project.owner_id, title="Spec", content="a", now=NOW
    )
    async with new_uow() as uow:
        await uow.prompts.add(lineage, first)
        await uow.commit()

    async with new_uow() as uow:
        mine = await uow.prompts.owned(first.id, project.owner_id)
        theirs = await uow.prompts.owned(first.id, new_id())

    assert mine is not None
    assert mine[0] == first
    assert (mine[1].id, mine[1].labels, mine[1].owner_id) == (lineage.id, {"current": 1}, project.owner_id)
    assert theirs is None


async def test_deleting_the_project_deletes_its_prompts(new_uow):
    project = await saved_project(new_uow)
    lineage, first = PromptLineage.start(
        id=new_id(), project_id=project.id, owner_id=project.owner_id, title="Spec", content="a", now=NOW
    )
    async with new_uow() as uow:
        await uow.prompts.add(lineage, first)
        await uow.commit()
    async with new_uow() as uow:
        await uow.projects.delete(project.id)
        await uow.commit()
    async with new_uow() as uow:
        assert await uow.prompts.get(first.id) is None
        assert await uow.prompts.lineage(lineage.id) is None
