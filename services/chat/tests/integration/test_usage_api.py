"""GET /api/v1/usage over HTTP on real PostgreSQL, and the budget through the real usage ledger:
counts per user and fixed window, limits from the settings replica, 429 once spent, and the
user's windows erased with them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from chat.application.budgets import BudgetExceeded, check_budget, record_usage, window_at
from chat.application.erasure import erase_users_data
from chat.application.replicas import SettingsChanged, on_settings_changed
from chat.domain.limits import ChatLimits
from shared.kernel.ids import new_id

USAGE = "/api/v1/usage"
DAY = 86_400


async def spend(uow, owner_id, *, messages: int = 0, tokens: int = 0, now: datetime | None = None) -> None:
    async with uow() as work:
        limits = await work.settings.limits()
        await record_usage(owner_id, now or datetime.now(UTC), limits, work, messages=messages, tokens=tokens)
        await work.commit()


async def set_limits(uow, **values: int) -> None:
    changes = [(f"chat.budget.{name}", value) for name, value in values.items()]
    await on_settings_changed(SettingsChanged(values=changes, at=datetime.now(UTC)), uow())


async def test_a_new_user_has_spent_nothing_of_the_default_budget(api, caller):
    alice = caller()

    answer = await api.get(USAGE, headers=alice.headers)

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["window_seconds"] == DAY
    assert body["messages"] == {"used": 0, "limit": ChatLimits().messages_per_window}
    assert body["tokens"] == {"used": 0, "limit": ChatLimits().tokens_per_window}
    start, resets = datetime.fromisoformat(body["window_start"]), datetime.fromisoformat(body["resets_at"])
    assert resets - start == timedelta(days=1)
    assert start.timestamp() % DAY == 0
    assert start <= datetime.now(UTC) < resets


async def test_usage_counts_what_i_spent_and_only_mine(api, caller, uow):
    alice, bob = caller(), caller()
    await spend(uow, alice.user_id, messages=1)
    await spend(uow, alice.user_id, messages=1, tokens=350)
    await spend(uow, bob.user_id, messages=7, tokens=9_000)

    body = (await api.get(USAGE, headers=alice.headers)).json()

    assert (body["messages"]["used"], body["tokens"]["used"]) == (2, 350)


async def test_usage_of_a_past_window_does_not_count_now(api, caller, uow):
    alice = caller()
    await spend(uow, alice.user_id, messages=5, now=datetime.now(UTC) - timedelta(days=2))

    assert (await api.get(USAGE, headers=alice.headers)).json()["messages"]["used"] == 0


async def test_limits_and_window_follow_the_replicated_settings(api, caller, uow):
    alice = caller()
    await set_limits(uow, messages_per_window=3, tokens_per_window=5_000, window_seconds=3_600)

    body = (await api.get(USAGE, headers=alice.headers)).json()

    assert body["window_seconds"] == 3_600
    assert (body["messages"]["limit"], body["tokens"]["limit"]) == (3, 5_000)
    start = datetime.fromisoformat(body["window_start"])
    assert start.timestamp() % 3_600 == 0


async def test_usage_needs_a_token(api):
    answer = await api.get(USAGE)

    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")


async def test_usage_is_documented_under_its_tag_with_its_refusals(api):
    operation = (await api.get("/schema/openapi.json")).json()["paths"][USAGE]["get"]

    assert operation["tags"] == ["usage"]
    assert operation["operationId"] == "get_usage"
    assert "401" in operation["responses"]


async def test_the_budget_refuses_once_the_windows_messages_are_spent(uow, service_engine):
    owner = new_id()
    now = datetime(2026, 3, 10, 23, 59, 30, tzinfo=UTC)
    limits = ChatLimits(messages_per_window=2)
    for _ in range(2):
        async with uow() as work:
            await check_budget(owner, now, limits, work)
            await record_usage(owner, now, limits, work, messages=1)
            await work.commit()

    async with uow() as work:
        with pytest.raises(BudgetExceeded) as refused:
            await check_budget(owner, now, limits, work)

    assert (refused.value.which, refused.value.retry_after_s) == ("messages", 30)
    assert refused.value.resets_at == datetime(2026, 3, 11, tzinfo=UTC)
    async with uow() as work:
        await check_budget(owner, now + timedelta(seconds=30), limits, work)  # the next window


async def test_concurrent_spending_is_all_counted(uow):
    owner = new_id()
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)

    await asyncio.gather(*(spend(uow, owner, messages=1, tokens=10, now=now) for _ in range(8)))

    async with uow() as work:
        assert await work.usage.spent(owner, window_at(now, DAY).start) == (8, 80)


async def test_erasing_a_user_deletes_their_usage_windows(uow):
    gone, kept = new_id(), new_id()
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    for owner in (gone, kept):
        await spend(uow, owner, messages=1, now=now)
        await spend(uow, owner, messages=1, now=now - timedelta(days=3))

    async with uow() as work:
        await erase_users_data(work, gone)
        await work.commit()

    async with uow() as work:
        assert await work.usage.spent(gone, window_at(now, DAY).start) == (0, 0)
        assert await work.usage.spent(kept, window_at(now, DAY).start) == (1, 0)
