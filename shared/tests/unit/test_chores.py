"""A worker's chores: a round at start, then one per period; a failed round never stops them."""

import asyncio
from itertools import pairwise

from shared.chores import Chore


async def test_a_chore_runs_at_start_then_every_period_until_stopped():
    rounds: list[float] = []
    stop = asyncio.Event()

    async def work() -> int:
        rounds.append(asyncio.get_running_loop().time())
        if len(rounds) == 3:
            stop.set()
        return 1

    await asyncio.wait_for(Chore(name="count", every_s=0.02, work=work).run(stop), timeout=5)

    assert len(rounds) == 3
    assert all(later - earlier >= 0.015 for earlier, later in pairwise(rounds))


async def test_a_failed_round_is_retried_at_the_next_and_the_chore_goes_on():
    outcomes: list[str] = []
    stop = asyncio.Event()

    async def work() -> int:
        if not outcomes:
            outcomes.append("failed")
            raise ConnectionError("database restarting")
        outcomes.append("done")
        stop.set()
        return 0

    await asyncio.wait_for(Chore(name="flaky", every_s=0.01, work=work).run(stop), timeout=5)

    assert outcomes == ["failed", "done"]


async def test_a_chore_stops_within_its_wait_when_asked():
    stop = asyncio.Event()

    async def work() -> int:
        return 0

    running = asyncio.create_task(Chore(name="idle", every_s=3600, work=work).run(stop))
    await asyncio.sleep(0.01)
    stop.set()

    await asyncio.wait_for(running, timeout=1)
