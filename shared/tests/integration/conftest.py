"""Fixtures for the messaging integration tests: a sample context with its stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from aiorch_devkit.testing import polling
from shared.contracts.identity import UserDeleted
from shared.kernel.ids import new_id
from shared.messaging.outbox import OutboxWriter
from shared.messaging.relay import OutboxRelay, RelaySettings
from shared.messaging.streams import DEAD_LETTER, context_stream, ensure_stream

IDENTITY = context_stream("identity")
FAST = RelaySettings(poll_interval_s=0.2, publish_timeout_s=2.0, max_backoff_s=0.5)


def user_deleted() -> UserDeleted:
    return UserDeleted(event_id=new_id(), occurred_at=datetime.now(UTC), user_id=new_id())


async def commit_events(engine: AsyncEngine, events: Sequence[UserDeleted]) -> None:
    async with engine.begin() as conn:
        await OutboxWriter("tests").add(conn, events)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 20.0, step: float = 0.05) -> None:
    await polling.eventually(check, within_s=timeout, interval_s=step)


async def stream_event_ids(js: Any, stream: str = "IDENTITY") -> list[str]:
    info = await js.stream_info(stream)
    ids = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(stream, seq)
        ids.append(msg.headers["ce-id"])
    return ids


async def pending_rows(engine: AsyncEngine) -> int:
    from sqlalchemy import text

    async with engine.connect() as conn:
        return int(
            (await conn.execute(text("SELECT count(*) FROM outbox WHERE published_at IS NULL"))).scalar_one()
        )


@asynccontextmanager
async def running(*workers: Callable[[asyncio.Event], Awaitable[None]]) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w(stop)) for w in workers]
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 15)


def relay_for(schema: Any, nats: Any, settings: RelaySettings = FAST) -> OutboxRelay:
    return OutboxRelay(database_url=schema.database_url, schema=schema.schema, nats=nats, settings=settings)


@pytest.fixture
async def js(nats_client: Any) -> Any:
    js = nats_client.jetstream()
    await ensure_stream(js, IDENTITY)
    await ensure_stream(js, DEAD_LETTER)
    return js


@pytest.fixture
def private_nats(tmp_path: Any) -> Any:
    """A NATS server of this test's own, which the test may stop and start again."""
    from aiorch_devkit.devservers import EmbeddedNats, free_port

    server = EmbeddedNats(tmp_path / "nats", free_port())
    server.start()
    yield server
    server.stop()
