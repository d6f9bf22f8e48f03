"""orchestrator.project.* / orchestrator.task.* on the ORCHESTRATOR stream → the chat.ownership
consumer → the replica that decides which links a conversation may have; through the real
consumer, inbox, PostgreSQL and NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from aiorch_devkit.testing.consumers import running_consumer
from aiorch_devkit.testing.polling import eventually
from chat.adapters.postgres.ownership import SqlAlchemyOwnership
from chat.application.erasure import erase_users_data
from chat.application.ports.ownership import ProjectFact, TaskFact
from chat.entrypoints.consumers.ownership import NAME
from shared.contracts import orchestrator
from shared.kernel.ids import new_id
from shared.messaging.envelope import headers_for, outgoing
from shared.messaging.streams import context_stream, ensure_stream

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
BASE = "/api/v1/conversations"


@pytest.fixture
async def js(nats_client):
    js = nats_client.jetstream()
    await ensure_stream(js, context_stream("orchestrator"))
    return js


@pytest.fixture
async def consumer(service_root, api_settings, js) -> AsyncIterator[object]:
    """The ownership consumer as the worker wires it, until the test ends."""
    async with running_consumer(service_root, api_settings, NAME) as found:
        yield found


class Publisher:
    def __init__(self, js) -> None:
        self._js = js
        self.last_seq = 0

    async def __call__(self, event: orchestrator.OrchestratorEvent, *, msg_id: str | None = None) -> None:
        message = outgoing(event, source="/aiorch/orchestrator")
        headers = headers_for(message)
        if msg_id is not None:
            headers["Nats-Msg-Id"] = msg_id
        ack = await self._js.publish(event.subject, message.payload, headers=headers)
        self.last_seq = max(self.last_seq, ack.seq)

    async def applied(self) -> None:
        """Until the consumer has settled everything published so far."""

        async def settled() -> bool:
            info = await self._js.consumer_info(orchestrator.STREAM, NAME.replace(".", "_"))
            return (
                info.delivered.stream_seq >= self.last_seq
                and info.num_ack_pending == 0
                and info.num_pending == 0
            )

        await eventually(settled)


@pytest.fixture
def publish(js, consumer) -> Publisher:
    return Publisher(js)


def project_event(kind, project_id: UUID, owner_id: UUID, *, minutes: int = 0):
    fields = {"name": "Shop"} if kind is not orchestrator.ProjectDeleted else {}
    if kind is orchestrator.ProjectUpdated:
        fields["status"] = "active"
    return kind(
        event_id=new_id(),
        occurred_at=T0 + timedelta(minutes=minutes),
        project_id=project_id,
        owner_id=owner_id,
        **fields,
    )


def task_event(kind, task_id: UUID, project_id: UUID, owner_id: UUID, *, minutes: int = 0):
    extra = {"from_status": "backlog"} if kind is orchestrator.TaskMoved else {}
    return kind(
        event_id=new_id(),
        occurred_at=T0 + timedelta(minutes=minutes),
        task_id=task_id,
        project_id=project_id,
        owner_id=owner_id,
        status="todo",
        position="a0",
        version=minutes + 1,
        **extra,
    )


async def link_status(api, who, **links: UUID) -> int:
    answer = await api.post(BASE, json={k: str(v) for k, v in links.items()}, headers=who.headers)
    return answer.status_code


async def test_a_created_project_and_task_can_be_linked_by_their_owner_only(api, caller, publish):
    alice, bob = caller(), caller()
    project_id, task_id = new_id(), new_id()
    await publish(project_event(orchestrator.ProjectCreated, project_id, alice.user_id))
    await publish(task_event(orchestrator.TaskCreated, task_id, project_id, alice.user_id, minutes=1))
    await publish.applied()

    answer = await api.post(BASE, json={"task_id": str(task_id)}, headers=alice.headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["project_id"] == str(project_id)
    assert await link_status(api, bob, project_id=project_id) == 422
    assert await link_status(api, bob, task_id=task_id) == 422


async def test_a_deleted_project_takes_its_tasks_and_stays_deleted(api, caller, publish):
    alice = caller()
    project_id, task_id = new_id(), new_id()
    await publish(project_event(orchestrator.ProjectCreated, project_id, alice.user_id))
    await publish(task_event(orchestrator.TaskCreated, task_id, project_id, alice.user_id, minutes=1))
    await publish(project_event(orchestrator.ProjectDeleted, project_id, alice.user_id, minutes=2))
    # late and stale facts about the dead project and its task change nothing
    await publish(project_event(orchestrator.ProjectUpdated, project_id, alice.user_id, minutes=9))
    await publish(task_event(orchestrator.TaskMoved, task_id, project_id, alice.user_id, minutes=9))
    await publish.applied()

    assert await link_status(api, alice, project_id=project_id) == 422
    assert await link_status(api, alice, task_id=task_id) == 422


async def test_a_deleted_task_stays_deleted_whatever_arrives_after(api, caller, publish):
    alice = caller()
    project_id, task_id = new_id(), new_id()
    await publish(project_event(orchestrator.ProjectCreated, project_id, alice.user_id))
    await publish(task_event(orchestrator.TaskUpdated, task_id, project_id, alice.user_id, minutes=3))
    await publish(task_event(orchestrator.TaskCreated, task_id, project_id, alice.user_id, minutes=1))
    await publish.applied()
    assert await link_status(api, alice, task_id=task_id) == 201

    deleted = task_event(orchestrator.TaskDeleted, task_id, project_id, alice.user_id, minutes=4)
    await publish(deleted)
    await publish(deleted, msg_id=str(new_id()))  # a redelivery JetStream cannot drop: the inbox does
    await publish(task_event(orchestrator.TaskUpdated, task_id, project_id, alice.user_id, minutes=8))
    await publish.applied()
    assert await link_status(api, alice, task_id=task_id) == 422
    assert await link_status(api, alice, project_id=project_id) == 201


async def test_the_replica_moves_forward_only_even_applied_directly(uow):
    owner, project_id, task_id = new_id(), new_id(), new_id()
    async with uow() as work:
        replica: SqlAlchemyOwnership = work.ownership
        newer = ProjectFact(
            project_id=project_id, owner_id=owner, deleted=False, at=T0 + timedelta(minutes=5)
        )
        assert await replica.record_project(newer) is True
        assert await replica.record_project(newer) is False  # the same fact again
        older = ProjectFact(project_id=project_id, owner_id=owner, deleted=False, at=T0)
        assert await replica.record_project(older) is False
        task = TaskFact(task_id=task_id, project_id=project_id, owner_id=owner, deleted=False, at=T0)
        assert await replica.record_task(task) is True
        assert await replica.project_of_task(owner, task_id) == project_id
        assert await replica.project_of_task(new_id(), task_id) is None
        # a tombstone wins even when it is older than what is stored
        gone = ProjectFact(project_id=project_id, owner_id=owner, deleted=True, at=T0)
        assert await replica.record_project(gone) is True
        assert await replica.owns_project(owner, project_id) is False
        assert await replica.project_of_task(owner, task_id) is None
        revived = ProjectFact(project_id=project_id, owner_id=owner, deleted=False, at=T0 + timedelta(days=1))
        assert await replica.record_project(revived) is False
        assert await replica.owns_project(owner, project_id) is False
        await work.commit()


async def test_erasing_a_user_tombstones_their_projects_and_tasks_for_good(uow):
    owner, other = new_id(), new_id()
    project_id, task_id, others_project = new_id(), new_id(), new_id()
    async with uow() as work:
        await work.ownership.record_project(
            ProjectFact(project_id=project_id, owner_id=owner, deleted=False, at=T0)
        )
        await work.ownership.record_task(
            TaskFact(task_id=task_id, project_id=project_id, owner_id=owner, deleted=False, at=T0)
        )
        await work.ownership.record_project(
            ProjectFact(project_id=others_project, owner_id=other, deleted=False, at=T0)
        )
        await work.commit()
    async with uow() as work:
        await erase_users_data(work, owner)
        await work.commit()
    async with uow() as work:
        late = ProjectFact(project_id=project_id, owner_id=owner, deleted=False, at=T0 + timedelta(days=1))
        assert await work.ownership.record_project(late) is False
        assert await work.ownership.owns_project(owner, project_id) is False
        assert await work.ownership.project_of_task(owner, task_id) is None
        assert await work.ownership.owns_project(other, others_project) is True
