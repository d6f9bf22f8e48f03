"""The state change and its outbox rows commit, or roll back, together; in its own transaction or
joined to another's."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID as PgUUID

from shared.contracts.identity import UserDeleted
from shared.db.unit_of_work import SqlAlchemyUnitOfWork
from shared.kernel.aggregate import Aggregate, Seen
from shared.kernel.ids import new_id
from shared.messaging.outbox import OutboxWriter
from shared.messaging.outbox_schema import outbox

things = sa.Table("things", sa.MetaData(), sa.Column("id", PgUUID(as_uuid=True), primary_key=True))


@dataclass(frozen=True, slots=True, kw_only=True)
class SomethingHappened:
    thing_id: UUID


@dataclass(slots=True, kw_only=True)
class Thing(Aggregate[SomethingHappened]):
    id: UUID
    events: list[SomethingHappened] = field(default_factory=list)


class ThingRepository:
    def __init__(self, conn, seen: Seen[SomethingHappened]) -> None:
        self._conn = conn
        self._seen = seen

    async def add(self, thing: Thing) -> None:
        await self._conn.execute(things.insert(), {"id": thing.id})
        self._seen.add(thing)


class ThingsUnitOfWork(SqlAlchemyUnitOfWork[SomethingHappened]):
    things: ThingRepository

    def attach_repositories(self, conn) -> None:
        self.things = ThingRepository(conn, self.seen)


def translate(event: SomethingHappened) -> UserDeleted:
    # any public contract will do: the unit of work only stages what it is given
    return UserDeleted(event_id=new_id(), occurred_at=datetime.now(UTC), user_id=event.thing_id)


OUTBOX = OutboxWriter("/aiorch/tests")


@pytest.fixture
async def engine(service_schema):
    async with service_schema.engine.begin() as conn:
        await conn.run_sync(things.metadata.create_all)
    return service_schema.engine


async def counts(engine) -> tuple[int, int]:
    async with engine.connect() as conn:
        kept = await conn.scalar(sa.select(sa.func.count()).select_from(things))
        staged = await conn.scalar(sa.select(sa.func.count()).select_from(outbox))
    return kept, staged


async def do_work(uow: ThingsUnitOfWork, *, commit: bool) -> None:
    async with uow:
        thing = Thing(id=new_id())
        thing.record(SomethingHappened(thing_id=thing.id))
        thing.record(SomethingHappened(thing_id=new_id()))
        await uow.things.add(thing)
        if commit:
            await uow.commit()


async def test_committed_work_keeps_the_change_and_every_event_its_aggregates_recorded(engine):
    await do_work(ThingsUnitOfWork.from_engine(engine, OUTBOX, translate), commit=True)

    assert await counts(engine) == (1, 2)


async def test_work_left_uncommitted_keeps_neither(engine):
    await do_work(ThingsUnitOfWork.from_engine(engine, OUTBOX, translate), commit=False)

    assert await counts(engine) == (0, 0)


async def test_a_failure_inside_the_block_keeps_neither(engine):
    async def fail_midway(uow: ThingsUnitOfWork) -> None:
        async with uow:
            thing = Thing(id=new_id())
            thing.record(SomethingHappened(thing_id=thing.id))
            await uow.things.add(thing)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_midway(ThingsUnitOfWork.from_engine(engine, OUTBOX, translate))

    assert await counts(engine) == (0, 0)


async def test_joined_work_is_kept_when_the_owner_commits(engine):
    async with engine.begin() as conn:
        await do_work(ThingsUnitOfWork.joining(conn, OUTBOX, translate), commit=True)

    assert await counts(engine) == (1, 2)


async def test_joined_work_is_lost_when_the_owner_rolls_back(engine):
    async with engine.connect() as conn:
        await conn.begin()
        await do_work(ThingsUnitOfWork.joining(conn, OUTBOX, translate), commit=True)
        await conn.rollback()

    assert await counts(engine) == (0, 0)


async def test_joined_work_left_uncommitted_is_discarded_while_the_owner_commits(engine):
    async with engine.begin() as conn:
        await do_work(ThingsUnitOfWork.joining(conn, OUTBOX, translate), commit=False)

    assert await counts(engine) == (0, 0)


async def test_commit_outside_the_block_is_an_error(engine):
    with pytest.raises(RuntimeError, match="outside"):
        await ThingsUnitOfWork.from_engine(engine, OUTBOX, translate).commit()


def test_it_runs_either_on_an_engine_or_joined_to_a_connection():
    with pytest.raises(ValueError, match="either"):
        ThingsUnitOfWork(outbox=OUTBOX, translate=translate)


async def test_a_unit_of_work_open_in_one_task_refuses_a_second_and_keeps_its_transaction(engine):
    uow = ThingsUnitOfWork.from_engine(engine, OUTBOX, translate)
    async with uow:
        with pytest.raises(RuntimeError, match="already open"):
            async with uow:
                pass
        await uow.things.add(Thing(id=new_id()))
        await uow.commit()
    assert await counts(engine) == (1, 0)
    await do_work(uow, commit=True)  # entered again once its block ended
    assert await counts(engine) == (2, 2)
