"""chat.conversation.* on the CHAT stream → the orchestrator.chat-sessions consumer → the projection →
the chat-session lists, through the real consumer, inbox, PostgreSQL and NATS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from nats.js.errors import NotFoundError

from aiorch_devkit.testing.consumers import running_consumer
from aiorch_devkit.testing.polling import eventually
from orchestrator.adapters.postgres.chat_sessions import SqlAlchemyChatSessionRepository
from orchestrator.domain.chat_sessions import ChatSession
from orchestrator.entrypoints.consumers.chat_sessions import NAME
from shared.contracts import chat
from shared.kernel.ids import new_id
from shared.messaging.envelope import headers_for, outgoing
from shared.messaging.streams import context_stream, ensure_stream

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
async def js(nats_client):
    js = nats_client.jetstream()
    await ensure_stream(js, context_stream("chat"))
    return js


@pytest.fixture
async def consumer(service_root, api_settings, js) -> AsyncIterator[object]:
    """The chat-sessions consumer as the worker wires it, until the test ends."""
    async with running_consumer(service_root, api_settings, NAME) as found:
        yield found


async def publish(js, event: chat.ConversationEvent, *, msg_id: str | None = None) -> None:
    message = outgoing(event, source="/aiorch/chat")
    headers = headers_for(message)
    if msg_id is not None:
        headers["Nats-Msg-Id"] = msg_id
    await js.publish(event.subject, message.payload, headers=headers)


def conversation(
    kind: type[chat.ConversationEvent],
    conversation_id: UUID,
    owner_id: UUID,
    project_id: UUID | None,
    *,
    minutes: int = 0,
    title: str = "Login flow",
    task_id: UUID | None = None,
) -> chat.ConversationEvent:
    return kind(
        event_id=new_id(),
        occurred_at=T0 + timedelta(minutes=minutes),
        conversation_id=conversation_id,
        owner_id=owner_id,
        title=title,
        project_id=project_id,
        task_id=task_id,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=minutes),
    )


def acked(js, count: int):
    async def check() -> bool:
        try:
            info = await js.consumer_info(chat.STREAM, NAME.replace(".", "_"))
        except NotFoundError:
            return False
        return info.delivered.stream_seq >= count and info.num_ack_pending == 0 and info.num_pending == 0

    return check


async def stream_length(js) -> int:
    return (await js.stream_info(chat.STREAM)).state.last_seq


async def new_project(api, who) -> str:
    answer = await api.post("/api/v1/projects", json={"name": "Shop"}, headers=who.headers)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def new_task(api, who, project_id: str) -> str:
    answer = await api.post(
        f"/api/v1/projects/{project_id}/tasks", json={"title": "Login"}, headers=who.headers
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


async def sessions(api, who, path: str) -> list[dict]:
    answer = await api.get(path, headers=who.headers)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def test_a_published_conversation_appears_on_its_project_and_task(api, caller, js, consumer):
    alice = caller()
    project_id = await new_project(api, alice)
    task_id = await new_task(api, alice, project_id)
    conversation_id = new_id()
    event = conversation(
        chat.ConversationCreated, conversation_id, alice.user_id, UUID(project_id), task_id=UUID(task_id)
    )
    await publish(js, event)
    await eventually(acked(js, await stream_length(js)))
    listed = await sessions(api, alice, f"/api/v1/projects/{project_id}/chat-sessions")
    assert [(s["id"], s["title"], s["task_id"]) for s in listed] == [
        (str(conversation_id), "Login flow", task_id)
    ]
    assert [s["id"] for s in await sessions(api, alice, f"/api/v1/tasks/{task_id}/chat-sessions")] == [
        str(conversation_id)
    ]


async def test_duplicates_and_reordering_leave_the_newest_state(api, caller, js, consumer):
    alice = caller()
    project_id = UUID(await new_project(api, alice))
    conversation_id = new_id()
    created = conversation(chat.ConversationCreated, conversation_id, alice.user_id, project_id)
    newer = conversation(
        chat.ConversationUpdated, conversation_id, alice.user_id, project_id, minutes=5, title="v3"
    )
    older = conversation(
        chat.ConversationUpdated, conversation_id, alice.user_id, project_id, minutes=2, title="v2"
    )
    await publish(js, newer)
    await publish(js, created)
    await publish(js, older)
    await publish(js, newer, msg_id=str(new_id()))  # a redelivery JetStream cannot drop: the inbox does
    await eventually(acked(js, await stream_length(js)))
    listed = await sessions(api, alice, f"/api/v1/projects/{project_id}/chat-sessions")
    assert [s["title"] for s in listed] == ["v3"]


async def test_a_deleted_conversation_is_gone_and_stays_gone(api, caller, js, consumer):
    alice = caller()
    project_id = UUID(await new_project(api, alice))
    conversation_id = new_id()
    await publish(js, conversation(chat.ConversationCreated, conversation_id, alice.user_id, project_id))
    await publish(
        js, conversation(chat.ConversationDeleted, conversation_id, alice.user_id, project_id, minutes=3)
    )
    late = conversation(chat.ConversationUpdated, conversation_id, alice.user_id, project_id, minutes=9)
    await publish(js, late)
    await eventually(acked(js, await stream_length(js)))
    assert await sessions(api, alice, f"/api/v1/projects/{project_id}/chat-sessions") == []


async def test_a_link_to_someone_elses_project_is_ignored_without_failing(api, caller, js, consumer):
    alice, mallory = caller(), caller()
    project_id = UUID(await new_project(api, alice))
    await publish(js, conversation(chat.ConversationCreated, new_id(), mallory.user_id, project_id))
    await publish(js, conversation(chat.ConversationCreated, new_id(), alice.user_id, new_id()))
    await eventually(acked(js, await stream_length(js)))
    assert await sessions(api, alice, f"/api/v1/projects/{project_id}/chat-sessions") == []
    assert consumer.applied >= 2  # applied (as nothing), not parked


async def test_another_users_project_and_task_sessions_are_not_found(api, caller):
    alice, bob = caller(), caller()
    project_id = await new_project(api, alice)
    task_id = await new_task(api, alice, project_id)
    assert (
        await api.get(f"/api/v1/projects/{project_id}/chat-sessions", headers=bob.headers)
    ).status_code == 404
    assert (await api.get(f"/api/v1/tasks/{task_id}/chat-sessions", headers=bob.headers)).status_code == 404


async def test_sessions_come_in_pages_most_recently_updated_first(api, caller, js, consumer):
    alice = caller()
    project_id = UUID(await new_project(api, alice))
    for minutes in range(3):
        event = conversation(
            chat.ConversationCreated,
            new_id(),
            alice.user_id,
            project_id,
            minutes=minutes,
            title=f"c{minutes}",
        )
        await publish(js, event)
    await eventually(acked(js, await stream_length(js)))
    path = f"/api/v1/projects/{project_id}/chat-sessions?limit=2"
    first = (await api.get(path, headers=alice.headers)).json()
    second = (await api.get(f"{path}&cursor={first['next_cursor']}", headers=alice.headers)).json()
    assert [s["title"] for s in first["items"] + second["items"]] == ["c2", "c1", "c0"]
    assert second["next_cursor"] is None


async def test_a_task_of_another_project_is_not_linked_and_a_later_link_moves_the_session(
    api, caller, js, consumer
):
    alice = caller()
    shop, blog = UUID(await new_project(api, alice)), UUID(await new_project(api, alice))
    blog_task = UUID(await new_task(api, alice, str(blog)))
    conversation_id = new_id()
    mixed = conversation(chat.ConversationCreated, conversation_id, alice.user_id, shop, task_id=blog_task)
    await publish(js, mixed)
    await eventually(acked(js, await stream_length(js)))
    (session,) = await sessions(api, alice, f"/api/v1/projects/{shop}/chat-sessions")
    assert session["task_id"] is None
    assert await sessions(api, alice, f"/api/v1/tasks/{blog_task}/chat-sessions") == []
    moved = conversation(
        chat.ConversationUpdated, conversation_id, alice.user_id, blog, minutes=1, task_id=blog_task
    )
    await publish(js, moved)
    await eventually(acked(js, await stream_length(js)))
    assert await sessions(api, alice, f"/api/v1/projects/{shop}/chat-sessions") == []
    assert [s["id"] for s in await sessions(api, alice, f"/api/v1/tasks/{blog_task}/chat-sessions")] == [
        str(conversation_id)
    ]


async def test_the_table_itself_refuses_to_move_a_session_back_or_revive_a_tombstone(
    api, caller, service_engine
):
    alice = caller()
    project_id = UUID(await new_project(api, alice))
    newer = ChatSession(
        id=new_id(),
        owner_id=alice.user_id,
        project_id=project_id,
        task_id=None,
        title="newer",
        state="linked",
        created_at=T0,
        updated_at=T0 + timedelta(minutes=5),
        as_of=T0 + timedelta(minutes=5),
    )
    older = replace(newer, title="older", updated_at=T0, as_of=T0)
    deleted = replace(newer, state="deleted", as_of=T0 + timedelta(minutes=6))
    revived = replace(newer, title="revived", as_of=T0 + timedelta(minutes=9))
    async with service_engine.begin() as conn:
        repository = SqlAlchemyChatSessionRepository(conn)
        await repository.save(newer)
        await repository.save(older)  # as two replicas racing would
        kept = await repository.get_for_update(newer.id)
        assert kept is not None
        assert kept.title == "newer"
        await repository.save(deleted)
        await repository.save(revived)
        kept = await repository.get_for_update(newer.id)
        assert kept is not None
        assert kept.state == "deleted"
