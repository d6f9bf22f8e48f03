"""The fakes keep the contracts of the ports they stand for, so use-case tests can trust them."""

from dataclasses import dataclass

import pytest

from shared.testing.fakes import FakeUnitOfWork


@dataclass(frozen=True, slots=True, kw_only=True)
class Happened:
    n: int


class FakeThings:
    def __init__(self) -> None:
        self.rows: dict[int, str] = {}


async def work(uow, *, commit: bool) -> None:
    async with uow:
        uow.things.rows[1] = "one"
        uow.emit(Happened(n=1))
        if commit:
            await uow.commit()


async def test_a_committed_unit_of_work_keeps_its_changes_and_publishes_its_events():
    uow = FakeUnitOfWork(things=FakeThings())

    await work(uow, commit=True)

    assert uow.things.rows == {1: "one"}
    assert uow.published == [Happened(n=1)]
    assert uow.commits == 1


async def test_an_uncommitted_unit_of_work_keeps_nothing_and_publishes_nothing():
    uow = FakeUnitOfWork(things=FakeThings())

    await work(uow, commit=False)

    assert uow.things.rows == {}
    assert uow.published == []
    assert uow.commits == 0


async def test_a_failure_inside_the_block_rolls_back_what_the_last_commit_did_not_keep():
    uow = FakeUnitOfWork(things=FakeThings())
    await work(uow, commit=True)

    async def fail_midway() -> None:
        async with uow:
            uow.things.rows[2] = "two"
            uow.emit(Happened(n=2))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await fail_midway()

    assert uow.things.rows == {1: "one"}
    assert uow.published == [Happened(n=1)]
