"""A database outage answers 503 with Retry-After, one log line each (issue 7, point 12)."""

import asyncio
import json
import logging
from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa
import structlog
from litestar import get
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from shared.db import create_engine
from shared.db.pool import CompiledQuery, open_read_pool
from shared.http.app import create_service_app
from shared.logging import configure_logging

from .test_database_restart import private_postgres  # noqa: F401 - a fixture

_ONE = CompiledQuery.of(sa.select(sa.bindparam("x", type_=sa.Integer).label("one")))


@pytest.fixture
def json_logs(capsys):
    configure_logging("sample", "INFO")
    yield lambda: [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    structlog.reset_defaults()
    logging.getLogger().handlers.clear()


async def test_requests_during_a_database_outage_answer_503_with_retry_after_and_one_line_each(
    private_postgres,  # noqa: F811 - the fixture imported above
    json_logs,
):
    held = {}

    @asynccontextmanager
    async def database(_app):
        # opened on the app's own event loop (the test client runs it on another)
        held["engine"] = create_engine(
            private_postgres.url, schema="public", application_name="t", pool_size=2
        )
        held["pool"] = await open_read_pool(
            private_postgres.url, schema="public", application_name="t", size=2
        )
        try:
            yield
        finally:
            await held["pool"].close()
            await held["engine"].dispose()

    @get("/through-engine")
    async def through_engine() -> int:
        async with held["engine"].begin() as conn:
            return int((await conn.execute(text("SELECT 1"))).scalar_one())

    @get("/through-pool")
    async def through_pool() -> int:
        record = await _ONE.fetchrow(held["pool"], x=1)
        assert record is not None
        return int(record["one"])

    app = create_service_app(
        service="sample", version="0", route_handlers=[through_engine, through_pool], lifespan=[database]
    )
    async with AsyncTestClient(app) as client:
        for path in ("/through-engine", "/through-pool"):  # both pools hold a connection
            assert (await client.get(path)).status_code == 200
        json_logs()
        await asyncio.to_thread(private_postgres.stop, "fast")

        answers = [await client.get(path) for path in ("/through-engine", "/through-pool") * 3]
        lines = [line for line in json_logs() if line.get("event") != "request"]

        await asyncio.to_thread(private_postgres.start)
        assert (await client.get("/through-engine")).status_code == 200

    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "2"
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["title"] == "Service unavailable"
    errors = [line for line in lines if line["level"] in ("warning", "error")]
    assert [line["event"] for line in errors] == ["database unavailable"] * len(answers), errors
    assert not any("exception" in line for line in errors)  # no traceback
