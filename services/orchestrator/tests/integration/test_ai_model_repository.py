"""The registry's table keeps its rules when two writers race past the use cases' checks."""

from datetime import UTC, datetime

import pytest

from orchestrator.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from orchestrator.domain.ai_models import AIModel
from shared.kernel.errors import Conflict
from shared.kernel.ids import new_id
from shared.messaging.outbox import OutboxWriter

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def model(name: str, *, is_default: bool = False) -> AIModel:
    return AIModel(
        id=new_id(),
        name=name,
        provider="offline",
        base_url=None,
        model="offline",
        is_default=is_default,
        created_at=NOW,
        updated_at=NOW,
    )


@pytest.fixture
def uow(service_root, service_engine):
    return lambda: SqlAlchemyUnitOfWork.from_engine(
        service_engine, OutboxWriter(service_root.event_source), service_root.translate
    )


async def add(uow, *models: AIModel) -> None:
    async with uow() as work:
        for each in models:
            await work.ai_models.add(each)
        await work.commit()


async def test_a_second_model_of_the_same_name_is_a_conflict(uow):
    await add(uow, model("gpt"))

    with pytest.raises(Conflict, match="exists already"):
        await add(uow, model("gpt"))


async def test_a_second_default_is_a_conflict(uow):
    await add(uow, model("a", is_default=True))

    with pytest.raises(Conflict, match="default"):
        await add(uow, model("b", is_default=True))


async def test_the_keys_of_every_model_that_has_one_are_listed_for_a_rotation(uow):
    await add(uow, model("keyless"))

    async with uow() as work:
        assert await work.ai_models.with_keys(for_update=True) == []
