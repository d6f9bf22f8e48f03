"""chat's API on real PostgreSQL and NATS, behind identity's tokens.

``api`` is the app as its composition root builds it, verifying tokens against a JWKS
server on loopback (root ``tests/conftest.py``); ``caller()`` mints a token for a new
user (or admin) and answers the headers to send. ``api_settings`` are the settings the app
(and a worker, ``service_root.open_worker(api_settings)``) runs with. ``uow()`` is a fresh
unit of work on the test database; ``replica`` seeds the project/task ownership replica
as the ``chat.ownership`` consumer would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import pytest
from tests.conftest import jwks  # noqa: F401 - a fixture
from tests.service_api import Caller, _private_working_directory, api, api_settings, caller  # noqa: F401 - fixtures

from chat.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from chat.application.ownership import on_project_changed, on_task_changed
from chat.application.ports.ownership import ProjectFact, TaskFact
from shared.kernel.ids import new_id
from shared.messaging.outbox import OutboxWriter

# api, api_settings, caller and the private working directory: shared with the other services' tests


@pytest.fixture
def uow(service_root, service_engine):
    return lambda: SqlAlchemyUnitOfWork.from_engine(
        service_engine, OutboxWriter(service_root.event_source), service_root.translate
    )


@dataclass(frozen=True)
class Replica:
    """Projects and tasks as orchestrator announced them (``at``: the events' time)."""

    uow: object
    at: datetime = datetime(2026, 1, 1, tzinfo=UTC)

    async def project(self, owner_id: UUID) -> UUID:
        project_id = new_id()
        fact = ProjectFact(project_id=project_id, owner_id=owner_id, deleted=False, at=self.at)
        await on_project_changed(fact, self.uow())  # type: ignore[operator]
        return project_id

    async def task(self, owner_id: UUID, project_id: UUID) -> UUID:
        task_id = new_id()
        fact = TaskFact(task_id=task_id, project_id=project_id, owner_id=owner_id, deleted=False, at=self.at)
        await on_task_changed(fact, self.uow())  # type: ignore[operator]
        return task_id


@pytest.fixture
def replica(uow) -> Replica:
    return Replica(uow=uow)
