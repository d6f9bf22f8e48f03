"""Fixtures for testing a service against real PostgreSQL and NATS, wired by its composition root.

A test folder names the service under test by overriding ``service_root`` (session
scope) in its conftest, returning the service's ``bootstrap.ROOT``, or by
parametrising it over several services (``indirect=True``). Then:

* ``service_database`` (session): the service's role and schema, provisioned like
  production under a unique name and migrated once;
* ``service_settings``: the service's settings on that database and the tests' NATS;
* ``service_engine``: the service's engine, on tables emptied for this test;
* ``service_client``: the HTTP app with its real lifespan, as an ``AsyncTestClient``;
* ``service_environment``: the service's variables in the process environment, as a
  shell sets them for its command line.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from aiorch_devkit.testing.databases import (
    ServiceDatabase,
    create_service_database,
    drop_service_database,
    truncate_tables,
)
from aiorch_devkit.testing.servers import Servers
from shared.bootstrap import ServiceRoot
from shared.db import create_engine
from shared.service_settings import CoreSettings, ServiceSettings, env_prefix

AnyRoot = ServiceRoot[Any, Any]


async def provision_and_migrate(root: AnyRoot, admin_url: str) -> ServiceDatabase:
    database = await create_service_database(admin_url, root.service)
    await root.migrate(CoreSettings(database_url=database.url, db_schema=database.name))
    return database


def service_environ(
    root: AnyRoot, database: ServiceDatabase, nats_url: str, **overrides: str
) -> dict[str, str]:
    """The environment variables that point the service at ``database`` and ``nats_url``."""
    prefix = env_prefix(root.service)
    return {
        f"{prefix}DATABASE_URL": database.url,
        f"{prefix}DB_SCHEMA": database.name,
        f"{prefix}NATS_URL": nats_url,
        **{f"{prefix}{key.upper()}": value for key, value in overrides.items()},
    }


def settings_for(
    root: AnyRoot, database: ServiceDatabase, nats_url: str, **overrides: str
) -> ServiceSettings:
    """The service's settings as it loads them from :func:`service_environ`."""
    settings: ServiceSettings = root.load_settings(service_environ(root, database, nats_url, **overrides))
    return settings


@pytest.fixture(scope="session")
def service_root() -> AnyRoot:
    pytest.fail(
        "no service under test: override the session fixture service_root (return bootstrap.ROOT)",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def _service_databases(servers: Servers) -> Iterator[dict[str, ServiceDatabase]]:
    """One migrated database per service for the whole session, dropped at its end."""
    databases: dict[str, ServiceDatabase] = {}
    yield databases
    for database in databases.values():
        asyncio.run(drop_service_database(database))


@pytest.fixture
def service_database(
    service_root: AnyRoot, servers: Servers, _service_databases: dict[str, ServiceDatabase]
) -> ServiceDatabase:
    """The database of the service under test, made once per session and service.

    Cached by service name rather than being a session fixture of ``service_root``: a test
    directory's own ``service_root`` and the root's parametrised one are different fixtures,
    and pytest would hand a session fixture made for one to tests of the other.
    """
    database = _service_databases.get(service_root.service)
    if database is None:
        # sync on purpose: a session-wide async fixture would need a session-wide event loop
        database = asyncio.run(provision_and_migrate(service_root, servers.postgres_url))
        _service_databases[service_root.service] = database
    return database


@pytest.fixture
def service_settings(
    service_root: AnyRoot, service_database: ServiceDatabase, servers: Servers
) -> ServiceSettings:
    return settings_for(service_root, service_database, servers.nats_url)


@pytest.fixture
async def service_engine(
    service_root: AnyRoot, service_database: ServiceDatabase
) -> AsyncIterator[AsyncEngine]:
    """The service's engine, on tables emptied for this test."""
    engine = create_engine(
        service_database.url, schema=service_database.name, application_name=f"{service_root.service}-tests"
    )
    await truncate_tables(engine, service_database.name)
    yield engine
    await engine.dispose()


@pytest.fixture
def service_environment(
    service_root: AnyRoot,
    service_database: ServiceDatabase,
    servers: Servers,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    environ = service_environ(service_root, service_database, servers.nats_url, log_level="WARNING")
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return environ


@pytest.fixture
async def service_client(
    service_root: AnyRoot, service_settings: ServiceSettings, nats_client: object
) -> AsyncIterator[AsyncTestClient[Any]]:
    # nats_client first: it clears JetStream, so start-up has the streams to create
    async with AsyncTestClient(app=service_root.create_app(service_settings)) as client:
        yield client
