"""The fakes keep the contracts of the ports they stand for, so use-case tests can trust them."""

from dataclasses import dataclass, field

import pytest

from aiorch_devkit.testing.fakes import FakeUnitOfWork
from shared.kernel.aggregate import Aggregate, Seen


@dataclass(frozen=True, slots=True, kw_only=True)
class Happened:
    n: int


@dataclass(slots=True, kw_only=True)
class Thing(Aggregate[Happened]):
    name: str
    events: list[Happened] = field(default_factory=list)


class FakeThings:
    def __init__(self, seen: Seen[Happened]) -> None:
        self.rows: dict[int, str] = {}
        self._seen = seen

    def add(self, key: int, thing: Thing) -> None:
        self.rows[key] = thing.name
        self._seen.add(thing)


def fake_uow() -> FakeUnitOfWork[Happened]:
    seen: Seen[Happened] = Seen()
    return FakeUnitOfWork(seen=seen, things=FakeThings(seen))


async def work(uow, *, commit: bool) -> None:
    async with uow:
        thing = Thing(name="one")
        thing.record(Happened(n=1))
        uow.things.add(1, thing)
        if commit:
            await uow.commit()


async def test_a_committed_unit_of_work_keeps_its_changes_and_publishes_its_events():
    uow = fake_uow()

    await work(uow, commit=True)

    assert uow.things.rows == {1: "one"}
    assert uow.published == [Happened(n=1)]
    assert uow.commits == 1


async def test_an_uncommitted_unit_of_work_keeps_nothing_and_publishes_nothing():
    uow = fake_uow()

    await work(uow, commit=False)

    assert uow.things.rows == {}
    assert uow.published == []
    assert uow.commits == 0


async def test_a_failure_inside_the_block_rolls_back_what_the_last_commit_did_not_keep():
    uow = fake_uow()
    await work(uow, commit=True)

    async def fail_midway() -> None:
        async with uow:
            thing = Thing(name="two")
            thing.record(Happened(n=2))
            uow.things.add(2, thing)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_midway()

    assert uow.things.rows == {1: "one"}
    assert uow.published == [Happened(n=1)]


async def test_events_an_aggregate_recorded_are_published_once():
    uow = fake_uow()
    thing = Thing(name="one")
    thing.record(Happened(n=1))
    async with uow:
        uow.things.add(1, thing)
        await uow.commit()
    async with uow:
        uow.things.add(1, thing)  # seen again in a later unit of work: nothing new to tell
        await uow.commit()

    assert uow.published == [Happened(n=1)]
