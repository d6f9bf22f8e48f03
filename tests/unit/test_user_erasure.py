"""Erasing a deleted user's data: the shared use case and consumer handler with fakes, and how chat
and orchestrator wire them with their own erase rule and receipt contract."""

import importlib
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from aiorch_devkit.testing.fakes import FakeUnitOfWork, FixedClock
from shared.contracts import event_type_of
from shared.contracts.identity import UserDeleted, UserRegistered
from shared.erasure.consumer import on_user_deleted
from shared.kernel.aggregate import Seen
from shared.kernel.erasure import EraseUser, Erasure, UserErased, erase_user
from shared.kernel.ids import new_id

CONNECTION = object()  # the consumer's open connection; the handler only hands it on
SERVICES = ["chat", "orchestrator"]


class FakeErasureLedger:
    """Keeps erasures by user; like the real ledger, every erasure it hands out or takes joins ``seen``."""

    def __init__(self, seen: Seen) -> None:
        self.rows: dict[UUID, Erasure] = {}
        self._seen = seen

    async def get(self, user_id: UUID) -> Erasure | None:
        erasure = self.rows.get(user_id)
        if erasure is not None:
            self._seen.add(erasure)
        return erasure

    async def add(self, erasure: Erasure) -> None:
        assert erasure.user_id not in self.rows, "a second erasure of one user violates the primary key"
        self.rows[erasure.user_id] = erasure
        self._seen.add(erasure)


def fake_uow() -> FakeUnitOfWork:
    seen: Seen = Seen()
    return FakeUnitOfWork(seen=seen, erasures=FakeErasureLedger(seen))


class RecordingRule:
    """An erase rule that notes each call and whether the transaction was still open (uncommitted)."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[object, UUID, int]] = []
        self.fail = fail

    async def __call__(self, uow, user_id: UUID) -> None:
        self.calls.append((uow, user_id, uow.commits))
        if self.fail:
            raise RuntimeError("the rule could not delete")


def erase(user_id: UUID | None = None) -> EraseUser:
    return EraseUser(user_id=user_id or new_id(), cause_event_id=new_id())


def deleted() -> UserDeleted:
    return UserDeleted(event_id=new_id(), occurred_at=datetime.now(UTC), user_id=new_id())


# -- the use case --------------------------------------------------------------------------------


async def test_erasing_a_user_records_when_and_why_commits_and_publishes_one_receipt():
    uow, clock, rule = fake_uow(), FixedClock(), RecordingRule()
    cmd = erase()

    erasure = await erase_user(cmd, uow, clock, rule)

    assert (erasure.user_id, erasure.cause_event_id, erasure.erased_at) == (
        cmd.user_id,
        cmd.cause_event_id,
        clock.now(),
    )
    assert uow.erasures.rows == {cmd.user_id: erasure}
    assert uow.commits == 1
    assert uow.published == [
        UserErased(
            occurred_at=clock.now(),
            user_id=cmd.user_id,
            erased_at=clock.now(),
            cause_event_id=cmd.cause_event_id,
        )
    ]


async def test_the_services_rule_runs_on_the_unit_of_work_before_the_commit():
    uow, rule = fake_uow(), RecordingRule()
    cmd = erase()

    await erase_user(cmd, uow, FixedClock(), rule)

    assert rule.calls == [(uow, cmd.user_id, 0)]


async def test_when_the_rule_fails_nothing_is_recorded_or_published():
    uow = fake_uow()

    with pytest.raises(RuntimeError, match="could not delete"):
        await erase_user(erase(), uow, FixedClock(), RecordingRule(fail=True))

    assert (uow.erasures.rows, uow.commits, uow.published) == ({}, 0, [])


async def test_erasing_an_erased_user_again_changes_nothing_and_publishes_no_second_receipt():
    uow, clock, rule = fake_uow(), FixedClock(), RecordingRule()
    user_id = new_id()
    first = await erase_user(erase(user_id), uow, clock, rule)
    clock.current += timedelta(hours=1)

    again = await erase_user(erase(user_id), uow, clock, rule)

    assert again == first
    assert uow.erasures.rows == {user_id: first}
    assert uow.commits == 1
    assert len(uow.published) == 1
    assert len(rule.calls) == 1


async def test_erasures_of_different_users_are_independent():
    uow, clock, rule = fake_uow(), FixedClock(), RecordingRule()
    a = await erase_user(erase(), uow, clock, rule)
    b = await erase_user(erase(), uow, clock, rule)

    assert set(uow.erasures.rows) == {a.user_id, b.user_id}
    assert [event.user_id for event in uow.published] == [a.user_id, b.user_id]


def test_an_erasure_loaded_from_the_ledger_records_no_receipt():
    loaded = Erasure(user_id=new_id(), cause_event_id=new_id(), erased_at=datetime.now(UTC))

    assert loaded.pull_events() == []


# -- the consumer's handler ----------------------------------------------------------------------


async def test_a_deletion_erases_the_user_on_the_consumers_connection_with_the_services_rule():
    uow, given, rule = fake_uow(), [], RecordingRule()
    event = deleted()

    def uow_on(conn):
        given.append(conn)
        return uow

    await on_user_deleted(event, CONNECTION, uow_on=uow_on, clock=FixedClock(), erase_rule=rule)

    assert given == [CONNECTION]
    assert uow.erasures.rows[event.user_id].cause_event_id == event.event_id
    assert [user_id for _, user_id, _ in rule.calls] == [event.user_id]


async def test_other_identity_events_change_nothing():
    uow, rule = fake_uow(), RecordingRule()
    event = UserRegistered(event_id=new_id(), occurred_at=datetime.now(UTC), user_id=new_id(), email="a@b.c")

    await on_user_deleted(event, CONNECTION, uow_on=lambda _: uow, clock=FixedClock(), erase_rule=rule)

    assert (uow.erasures.rows, rule.calls) == ({}, [])


# -- each service's wiring -----------------------------------------------------------------------


@pytest.fixture(params=SERVICES)
def service(request) -> str:
    return request.param


def erasure_spec(service: str):
    root = importlib.import_module(f"{service}.bootstrap").ROOT
    specs = [factory(lambda conn: fake_uow()) for factory in root.consumers]
    (spec,) = [spec for spec in specs if spec.name == f"{service}.user-erasure"]
    return spec


def test_the_erasure_consumer_is_durable_on_identity_deletions_only(service):
    spec = erasure_spec(service)

    assert (spec.name, spec.durable, spec.stream) == (
        f"{service}.user-erasure",
        f"{service}_user-erasure",
        "IDENTITY",
    )
    assert list(spec.subjects) == ["identity.user.deleted"]


async def test_the_consumer_erases_with_the_services_own_rule(service):
    rule = importlib.import_module(f"{service}.application.erasure").erase_users_data
    spec = erasure_spec(service)

    assert spec.handler.keywords["erase_rule"] is rule


class FakeOwnedRows:
    """Notes whose rows were deleted (the real deletions: services/chat/tests/integration)."""

    def __init__(self) -> None:
        self.deleted_owners: list[UUID] = []

    async def delete_owned_by(self, owner_id: UUID) -> int:
        self.deleted_owners.append(owner_id)
        return 0

    async def forget_owner(self, owner_id: UUID) -> None:
        self.deleted_owners.append(owner_id)


CHATS_OWNED_ROWS = ("conversations", "ownership", "usage", "attachments")


async def test_chats_rule_deletes_everything_the_user_owns_and_the_erasure_is_recorded():
    # orchestrator's rule deletes projects: services/orchestrator/tests/integration/test_erasure_of_a_user.py
    rule = importlib.import_module("chat.application.erasure").erase_users_data
    seen: Seen = Seen()
    owned = {name: FakeOwnedRows() for name in CHATS_OWNED_ROWS}
    uow = FakeUnitOfWork(seen=seen, erasures=FakeErasureLedger(seen), **owned)
    cmd = erase()

    await erase_user(cmd, uow, FixedClock(), rule)

    assert {name: rows.deleted_owners for name, rows in owned.items()} == {
        name: [cmd.user_id] for name in CHATS_OWNED_ROWS
    }
    assert list(uow.erasures.rows) == [cmd.user_id]
    assert uow.commits == 1


def test_the_receipt_becomes_the_services_user_erased_contract(service):
    translate = importlib.import_module(f"{service}.adapters.messaging.translators").to_contract
    at = datetime.now(UTC)
    receipt = UserErased(occurred_at=at, user_id=new_id(), erased_at=at, cause_event_id=new_id())

    contract = translate(receipt)

    assert event_type_of(contract) == f"aiorch.{service}.user.erased.v1"
    assert contract.subject == f"{service}.user.erased"
    assert (contract.user_id, contract.erased_at, contract.cause_event_id, contract.occurred_at) == (
        receipt.user_id,
        at,
        receipt.cause_event_id,
        at,
    )
    assert contract.event_id != translate(receipt).event_id  # a fresh id each time it is staged
