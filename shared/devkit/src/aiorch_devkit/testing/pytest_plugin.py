"""pytest plugin (entry point ``aiorch``): real servers, clean state, layer marks.

* ``servers`` (session): the PostgreSQL and NATS the run uses; the header says which.
  ``servers_provider`` (session) names that provider without starting anything.
* ``service_schema`` (per test): a fresh schema with the outbox/inbox tables and an
  engine bound to it, dropped afterwards.
* ``nats_client`` (per test): a connection to a JetStream with no streams left over.
* ``service_root``, ``service_database``, ``service_settings``, ``service_engine``,
  ``service_client``, ``service_environment``: a service under test, as its composition root wires it
  (``aiorch_devkit.testing.service_fixtures``).
* ``local_model`` (session): the real local model, llama.cpp's OpenAI-compatible server on
  SmolLM2-135M (``aiorch_devkit.testing.local_model``), started only by tests that ask for it.
* Tests under ``unit/``, ``integration/`` and ``system/`` folders get the mark of
  their layer, so ``-m unit`` runs in milliseconds with no server. System tests and those
  using the local model share one ``xdist_group``, so parallel workers run them in turn.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from aiorch_devkit.testing.local_model import local_model as local_model
from aiorch_devkit.testing.servers import Servers, choose_provider, start_servers
from aiorch_devkit.testing.service_fixtures import _service_databases as _service_databases
from aiorch_devkit.testing.service_fixtures import service_client as service_client
from aiorch_devkit.testing.service_fixtures import service_database as service_database
from aiorch_devkit.testing.service_fixtures import service_engine as service_engine
from aiorch_devkit.testing.service_fixtures import service_environment as service_environment
from aiorch_devkit.testing.service_fixtures import service_root as service_root
from aiorch_devkit.testing.service_fixtures import service_settings as service_settings

LAYERS = ("unit", "integration", "system", "contract", "architecture")
HEAVY_GROUP = "heavy"


def pytest_configure(config: pytest.Config) -> None:
    for layer in LAYERS:
        config.addinivalue_line("markers", f"{layer}: {layer} tests")


def pytest_report_header(config: pytest.Config) -> str:
    try:
        provider = choose_provider()
    except Exception as exc:
        return f"aiorch test servers: cannot choose ({exc})"
    config.stash[_PROVIDER] = provider
    return f"aiorch test servers: {provider} (AIORCH_TEST_SERVERS forces env|containers|embedded)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = item.path.parts
        for layer in LAYERS:
            if layer in parts:
                item.add_marker(getattr(pytest.mark, layer))
                break
        if "system" in parts or "local_model" in getattr(item, "fixturenames", ()):
            # With pytest-xdist (`make test` runs two workers, --dist loadgroup) these run one
            # after the other on one worker: each keeps the machine's cores busy by itself (a
            # whole cluster of processes, the local model), two at once only time out.
            item.add_marker(pytest.mark.xdist_group(HEAVY_GROUP))


_PROVIDER = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def servers_provider(request: pytest.FixtureRequest) -> str:
    """``env``, ``containers`` or ``embedded``: where ``servers`` comes (or would come) from."""
    provider = request.config.stash.get(_PROVIDER, None) or choose_provider()
    request.config.stash[_PROVIDER] = provider
    return provider


@pytest.fixture(scope="session")
def servers(servers_provider: str) -> Iterator[Servers]:
    running = start_servers(servers_provider)
    try:
        yield running
    finally:
        running.stop()


@dataclass(frozen=True)
class SchemaUnderTest:
    schema: str
    database_url: str
    engine: AsyncEngine


@pytest.fixture
async def service_schema(servers: Servers) -> AsyncIterator[SchemaUnderTest]:
    """A throw-away schema holding the messaging tables, as a service's first migration makes them."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlalchemy import text

    from shared.db import create_engine
    from shared.db.migration_ops import create_messaging_tables_v1

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(servers.postgres_url, schema=schema, application_name="tests", pool_size=20)
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))

        def migrate(sync_conn: object) -> None:
            create_messaging_tables_v1(Operations(MigrationContext.configure(sync_conn)), schema)  # type: ignore[arg-type]

        await conn.run_sync(migrate)
    try:
        yield SchemaUnderTest(schema, servers.postgres_url, engine)
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await engine.dispose()


@pytest.fixture
async def nats_client(servers: Servers) -> AsyncIterator[object]:
    """A NATS connection on a JetStream cleared of every stream."""
    from shared.messaging.connection import connect_nats

    nc = await connect_nats(servers.nats_url, name="tests", wait=10)
    js = nc.jetstream()
    for name in await js.streams_info():
        await js.delete_stream(str(name.config.name))
    try:
        yield nc
    finally:
        await nc.close()
