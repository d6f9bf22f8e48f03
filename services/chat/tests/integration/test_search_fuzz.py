"""Schemathesis against GET /api/v1/search as chat's OpenAPI document states it: every phase and
every check, on a user's searchable conversations: no server error, every answer as documented,
the documented limits the ones enforced."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from aiorch_devkit.testing.fuzzing import failures, run_schemathesis, served, summary
from chat.adapters.postgres.tables import conversations, messages
from shared.kernel.ids import new_id

pytestmark = pytest.mark.asyncio
NOW = datetime(2026, 1, 1, tzinfo=UTC)

# An opaque cursor names a position in a result list; a made-up one names none (a 400).
CONFIG = """
[[operations]]
include-operation-id = ["search"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401"]
"""


@pytest.fixture
async def base(service_root, api_settings, nats_client, service_engine) -> AsyncIterator[str]:
    async with served(service_root.create_app(api_settings)) as url:
        yield url


async def test_no_server_error_and_every_answer_as_documented(base, caller, service_engine, tmp_path, capsys):
    who = caller()
    conversation_id = new_id()
    async with service_engine.begin() as conn:
        await conn.execute(
            conversations.insert().values(
                id=conversation_id, owner_id=who.user_id, title="Fuzzing the search", title_source="user",
                pinned=False, archived=False, messages_count=1, created_at=NOW, last_activity_at=NOW,
            )
        )  # fmt: skip
        await conn.execute(
            messages.insert().values(
                id=new_id(), conversation_id=conversation_id, owner_id=who.user_id, parent_id=None,
                sender="user", content="A a b c 0 1 search fuzz text with words", status="completed",
                metadata={}, prompt_tokens=0, completion_tokens=0, created_at=NOW,
            )
        )  # fmt: skip
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)

    run = await run_schemathesis(
        base,
        config=config,
        authorization=who.headers["authorization"],
        max_examples=60,
        extra=["--include-operation-id", "search"],
    )

    with capsys.disabled():
        print("\nschemathesis on search:", *summary(run), sep="\n  ")
    assert run.returncode == 0, failures(run)
