"""The service under test is identity, as its composition root wires it (``aiorch_devkit.testing``)."""

import asyncio
from collections.abc import Iterator

import pytest

from aiorch_devkit.testing.databases import ServiceDatabase, drop_service_database
from aiorch_devkit.testing.servers import Servers
from aiorch_devkit.testing.service_fixtures import provision_and_migrate
from identity.bootstrap import ROOT


@pytest.fixture(scope="session")
def service_root():
    return ROOT


@pytest.fixture(scope="session")
def service_database(servers: Servers) -> Iterator[ServiceDatabase]:
    """identity's own database for the session.

    Overridden here rather than taken from the shared plugin: a session fixture caches one
    value per definition, so the plugin's would hand identity's schema to the tests under
    ``tests/`` that later ask for chat's or orchestrator's.
    """
    database = asyncio.run(provision_and_migrate(ROOT, servers.postgres_url))
    yield database
    asyncio.run(drop_service_database(database))
