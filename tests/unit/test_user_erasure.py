"""chat and orchestrator erase a deleted user's data: the use case and the event handler, with fakes."""

import importlib
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from uuid import UUID

import pytest

from aiorch_devkit.testing.fakes import FakeUnitOfWork, FixedClock
from shared.contracts.identity import UserDeleted, UserRegistered
from shared.kernel.ids import new_id

CONNECTION = object()  # the consumer's open connection; the handler only hands it on


@pytest.fixture(params=["chat", "orchestrator"])
def service(request) -> SimpleNamespace:
    use_case = importlib.import_module(f"{request.param}.application.erase_user")
    worker = importlib.import_module(f"{request.param}.entrypoints.worker")
    return SimpleNamespace(
        name=request.param, EraseUser=use_case.EraseUser, erase_user=use_case.erase_user, worker=worker
    )


class FakeErasureRepository:
    def __init__(self) -> None:
        self.rows: dict[UUID, object] = {}

    async def get(self, user_id: UUID):
        return self.rows.get(user_id)

    async def add(self, erasure) -> None:
        assert erasure.user_id not in self.rows, "a second erasure of one user violates the primary key"
        self.rows[erasure.user_id] = erasure


def fake_uow() -> FakeUnitOfWork:
    return FakeUnitOfWork(erasures=FakeErasureRepository())


def deleted() -> UserDeleted:
    return UserDeleted(event_id=new_id(), occurred_at=datetime.now(UTC), user_id=new_id())


# -- the use case ------------------------------------------------------------------------------


async def test_erasing_a_user_records_when_and_why_and_commits(service):
    uow, clock = fake_uow(), FixedClock()
    cmd = service.EraseUser(user_id=new_id(), event_id=new_id())

    erasure = await service.erase_user(cmd, uow, clock)

    assert (erasure.user_id, erasure.event_id, erasure.erased_at) == (cmd.user_id, cmd.event_id, clock.now())
    assert uow.erasures.rows == {cmd.user_id: erasure}
    assert uow.commits == 1
    assert uow.published == []


async def test_erasing_an_erased_user_again_changes_nothing_and_keeps_the_first_record(service):
    uow, clock = fake_uow(), FixedClock()
    user_id = new_id()
    first = await service.erase_user(service.EraseUser(user_id=user_id, event_id=new_id()), uow, clock)
    clock.current += timedelta(hours=1)

    again = await service.erase_user(service.EraseUser(user_id=user_id, event_id=new_id()), uow, clock)

    assert again == first
    assert uow.erasures.rows == {user_id: first}
    assert uow.commits == 1


async def test_erasures_of_different_users_are_independent(service):
    uow, clock = fake_uow(), FixedClock()
    a = await service.erase_user(service.EraseUser(user_id=new_id(), event_id=new_id()), uow, clock)
    b = await service.erase_user(service.EraseUser(user_id=new_id(), event_id=new_id()), uow, clock)

    assert set(uow.erasures.rows) == {a.user_id, b.user_id}


# -- the event handler ---------------------------------------------------------------------------


async def test_a_deletion_erases_the_user_on_the_consumers_connection(service):
    uow, given = fake_uow(), []
    event = deleted()

    def uow_on(conn):
        given.append(conn)
        return uow

    await service.worker.on_user_deleted(event, CONNECTION, uow_on=uow_on, clock=FixedClock())

    assert given == [CONNECTION]
    assert uow.erasures.rows[event.user_id].event_id == event.event_id


async def test_other_identity_events_change_nothing(service):
    uow = fake_uow()
    event = UserRegistered(event_id=new_id(), occurred_at=datetime.now(UTC), user_id=new_id(), email="a@b.c")

    await service.worker.on_user_deleted(event, CONNECTION, uow_on=lambda _: uow, clock=FixedClock())

    assert uow.erasures.rows == {}


def test_the_erasure_consumer_is_durable_on_identity_deletions_only(service):
    spec = service.worker.user_erasure(service.worker.on_user_deleted)
    durable = {"chat": "chat_user-erasure", "orchestrator": "orchestrator_user-erasure"}[service.name]

    assert (spec.name, spec.durable, spec.stream) == (service.worker.USER_ERASURE, durable, "IDENTITY")
    assert spec.name == f"{service.name}.user-erasure"
    assert list(spec.subjects) == ["identity.user.deleted"]
