"""Budgets: fixed windows aligned to the epoch, refused once messages or tokens reach their limit,
with when it resets; usage counted in the window it happens in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest

from chat.application.budgets import (
    BudgetExceeded,
    charge_message,
    check_budget,
    record_usage,
    usage_of,
    window_at,
)
from chat.domain.limits import ChatLimits
from shared.kernel.ids import new_id

DAY = 86_400
NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
MIDNIGHT = datetime(2026, 3, 10, tzinfo=UTC)


@dataclass
class FakeUsageLedger:
    windows: dict[tuple[UUID, datetime], tuple[int, int]] = field(default_factory=dict)

    async def spent(self, owner_id: UUID, window_start: datetime) -> tuple[int, int]:
        return self.windows.get((owner_id, window_start), (0, 0))

    async def add(
        self, owner_id: UUID, window_start: datetime, messages: int, tokens: int
    ) -> tuple[int, int]:
        spent_messages, spent_tokens = self.windows.get((owner_id, window_start), (0, 0))
        self.windows[(owner_id, window_start)] = (spent_messages + messages, spent_tokens + tokens)
        return self.windows[(owner_id, window_start)]

    async def delete_owned_by(self, owner_id: UUID) -> int:
        mine = [key for key in self.windows if key[0] == owner_id]
        for key in mine:
            del self.windows[key]
        return len(mine)


@dataclass
class FakeSettingsReplica:
    current: ChatLimits = field(default_factory=ChatLimits)

    async def limits(self) -> ChatLimits:
        return self.current


@dataclass
class FakeUnitOfWork:
    usage: FakeUsageLedger = field(default_factory=FakeUsageLedger)
    settings: FakeSettingsReplica = field(default_factory=FakeSettingsReplica)
    committed: bool = False

    async def __aenter__(self) -> FakeUnitOfWork:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def commit(self) -> None:
        self.committed = True


LIMITS = ChatLimits(messages_per_window=3, tokens_per_window=1_000, window_seconds=DAY)


def test_a_window_starts_at_a_multiple_of_its_length_since_the_epoch():
    assert window_at(NOON, DAY).start == MIDNIGHT
    assert window_at(NOON, DAY).end == MIDNIGHT + timedelta(days=1)
    assert window_at(NOON + timedelta(minutes=7), 3600).start == NOON
    assert window_at(MIDNIGHT, DAY).start == MIDNIGHT  # the first instant belongs to the new window


def test_a_window_of_a_time_in_another_zone_is_the_same_instant():
    in_paris = NOON.astimezone(ZoneInfo("Europe/Paris"))
    assert window_at(in_paris, DAY) == window_at(NOON, DAY)


async def test_a_user_under_both_limits_may_go_on():
    uow = FakeUnitOfWork()
    owner = new_id()
    await record_usage(owner, NOON, LIMITS, uow, messages=2, tokens=999)

    await check_budget(owner, NOON, LIMITS, uow)  # no exception


async def test_the_message_that_reaches_the_limit_is_the_last_one_allowed():
    uow = FakeUnitOfWork()
    owner = new_id()
    for _ in range(3):
        await check_budget(owner, NOON, LIMITS, uow)
        await record_usage(owner, NOON, LIMITS, uow, messages=1)

    with pytest.raises(BudgetExceeded) as refused:
        await check_budget(owner, NOON, LIMITS, uow)

    assert refused.value.which == "messages"
    assert refused.value.resets_at == MIDNIGHT + timedelta(days=1)
    assert refused.value.retry_after_s == 12 * 3600
    assert "3 messages" in refused.value.detail


async def test_tokens_at_their_limit_refuse_the_next_request_even_with_messages_left():
    uow = FakeUnitOfWork()
    owner = new_id()
    await record_usage(owner, NOON, LIMITS, uow, messages=1, tokens=1_250)  # the last answer overshot

    with pytest.raises(BudgetExceeded) as refused:
        await check_budget(owner, NOON + timedelta(seconds=30), LIMITS, uow)

    assert refused.value.which == "tokens"
    assert refused.value.retry_after_s == 12 * 3600 - 30


async def test_retry_after_is_never_less_than_a_second():
    uow = FakeUnitOfWork()
    owner = new_id()
    await record_usage(owner, NOON, LIMITS, uow, messages=3)

    with pytest.raises(BudgetExceeded) as refused:
        await check_budget(owner, MIDNIGHT + timedelta(days=1, microseconds=-1), LIMITS, uow)

    assert refused.value.retry_after_s == 1


async def test_the_next_window_starts_from_nothing():
    uow = FakeUnitOfWork()
    owner = new_id()
    await record_usage(owner, NOON, LIMITS, uow, messages=3, tokens=5_000)

    await check_budget(owner, MIDNIGHT + timedelta(days=1), LIMITS, uow)  # no exception


async def test_one_users_spending_leaves_anothers_budget_alone():
    uow = FakeUnitOfWork()
    await record_usage(new_id(), NOON, LIMITS, uow, messages=3)

    await check_budget(new_id(), NOON, LIMITS, uow)  # no exception


async def test_a_lower_limit_set_mid_window_applies_at_once():
    uow = FakeUnitOfWork()
    owner = new_id()
    await record_usage(owner, NOON, LIMITS, uow, messages=2)

    with pytest.raises(BudgetExceeded):
        await check_budget(owner, NOON, ChatLimits(messages_per_window=2, window_seconds=DAY), uow)


async def test_recording_nothing_writes_nothing():
    uow = FakeUnitOfWork()
    await record_usage(new_id(), NOON, LIMITS, uow)

    assert uow.usage.windows == {}


async def test_usage_states_what_was_spent_against_the_limits_in_force():
    uow = FakeUnitOfWork(settings=FakeSettingsReplica(LIMITS))
    owner = new_id()
    await record_usage(owner, NOON, LIMITS, uow, messages=2, tokens=400)

    view = await usage_of(owner, NOON, uow)

    assert (view.messages_used, view.messages_limit) == (2, 3)
    assert (view.tokens_used, view.tokens_limit) == (400, 1_000)
    assert (view.window_start, view.resets_at, view.window_seconds) == (
        MIDNIGHT,
        MIDNIGHT + timedelta(days=1),
        DAY,
    )
    assert not uow.committed  # a read


async def test_charging_a_message_counts_it_and_refuses_the_one_past_the_budget():
    uow = FakeUnitOfWork(usage=FakeUsageLedger())
    owner_id = new_id()
    limits = ChatLimits(messages_per_window=2, tokens_per_window=100, window_seconds=DAY)
    await charge_message(owner_id, NOON, limits, uow)
    await charge_message(owner_id, NOON, limits, uow)
    with pytest.raises(BudgetExceeded) as refused:
        await charge_message(owner_id, NOON, limits, uow)
    assert refused.value.retry_after_s == 12 * 3600
    await record_usage(owner_id, NOON, limits, uow, tokens=100)
    tomorrow = NOON + timedelta(days=1)
    await charge_message(owner_id, tomorrow, limits, uow)  # a new window starts from nothing
