"""chat's conversations and message trees on real PostgreSQL: stored as they are, scoped to
their owner, deleted with their messages and branches, erased per user, and published
through the outbox when the unit of work commits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from chat.adapters.postgres.tables import conversations, messages
from chat.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from chat.application.erasure import erase_users_data
from chat.domain.conversations import Conversation
from shared.contracts.chat import decoder
from shared.kernel.ai import Usage
from shared.kernel.clock import SystemClock
from shared.kernel.erasure import EraseUser, erase_user
from shared.kernel.ids import new_id
from shared.messaging.outbox import OutboxWriter
from shared.messaging.outbox_schema import outbox

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def uow(service_root, service_engine):
    return lambda: SqlAlchemyUnitOfWork.from_engine(
        service_engine, OutboxWriter(service_root.event_source), service_root.translate
    )


async def a_conversation_with_a_branched_tree(uow, owner_id=None):
    """root question -> reply (completed) -> follow-up; and the root edited into a second branch."""
    owner_id = owner_id or new_id()
    conversation = Conversation.create(
        id=new_id(), owner_id=owner_id, now=NOW, title="Planning", model_id=new_id()
    )
    question = conversation.post(id=new_id(), content="What next?", parent=None, now=NOW)
    reply = conversation.start_reply(id=new_id(), to=question, now=NOW + timedelta(seconds=1))
    reply.complete(content="Write tests.", usage=Usage(prompt_tokens=7, completion_tokens=3), now=NOW)
    follow_up = conversation.post(id=new_id(), content="Which?", parent=reply, now=NOW + timedelta(seconds=2))
    edited = conversation.edit(
        id=new_id(), original=question, content="What first?", now=NOW + timedelta(seconds=3)
    )
    async with uow() as work:
        await work.conversations.add(conversation)
        for message in (question, reply, follow_up, edited):
            await work.messages.add(message)
        await work.commit()
    return conversation, (question, reply, follow_up, edited)


async def count(engine, table, **where) -> int:
    async with engine.connect() as conn:
        clauses = [table.c[name] == value for name, value in where.items()]
        return (
            await conn.execute(sa.select(sa.func.count()).select_from(table).where(*clauses))
        ).scalar_one()


async def test_a_conversation_and_its_messages_read_back_as_they_were_stored(uow):
    conversation, tree = await a_conversation_with_a_branched_tree(uow)

    async with uow() as work:
        loaded = await work.conversations.get(conversation.id, conversation.owner_id)
        stored = await work.messages.of_conversation(conversation.id)
        one = await work.messages.get(tree[1].id, conversation.owner_id)

    assert loaded == conversation
    assert loaded.messages_count == 4
    assert loaded.selected_leaf_id == tree[3].id
    assert sorted(stored, key=lambda m: m.id) == sorted(tree, key=lambda m: m.id)
    assert one == tree[1]
    assert one.usage == Usage(prompt_tokens=7, completion_tokens=3)
    assert one.status == "completed"


async def test_updates_persist_the_changed_settings_and_the_finished_reply(uow):
    conversation, (_question, *_rest) = await a_conversation_with_a_branched_tree(uow)
    async with uow() as work:
        loaded = await work.conversations.get(conversation.id, conversation.owner_id, for_update=True)
        loaded.rename("Renamed", NOW)
        loaded.pin(True, NOW)
        reply = loaded.regenerate(id=new_id(), original=_rest[0], now=NOW + timedelta(seconds=9))
        await work.messages.add(reply)
        reply.fail(reason="model timed out", content="Partial", now=NOW + timedelta(seconds=10))
        await work.messages.update(reply)
        await work.conversations.update(loaded)
        await work.commit()

    async with uow() as work:
        again = await work.conversations.get(conversation.id, conversation.owner_id)
        failed = await work.messages.get(reply.id, conversation.owner_id)
    assert (again.title, again.title_source, again.pinned, again.messages_count) == (
        "Renamed",
        "user",
        True,
        5,
    )
    assert again.selected_leaf_id == reply.id
    assert (failed.status, failed.content, failed.metadata) == (
        "failed",
        "Partial",
        {"error": "model timed out"},
    )
    assert failed.finished_at == NOW + timedelta(seconds=10)


async def test_another_owners_conversation_and_messages_are_none(uow):
    conversation, tree = await a_conversation_with_a_branched_tree(uow)
    stranger = new_id()

    async with uow() as work:
        assert await work.conversations.get(conversation.id, stranger) is None
        assert await work.messages.get(tree[0].id, stranger) is None


async def test_deleting_a_message_deletes_its_replies_and_deleting_a_conversation_deletes_its_tree(
    uow, service_engine
):
    conversation, (question, _reply, _follow_up, edited) = await a_conversation_with_a_branched_tree(uow)

    async with service_engine.begin() as conn:
        await conn.execute(messages.delete().where(messages.c.id == question.id))
    async with uow() as work:
        left = await work.messages.of_conversation(conversation.id)
    assert [m.id for m in left] == [edited.id]

    async with uow() as work:
        await work.conversations.delete(conversation.id)
        await work.commit()
    assert await count(service_engine, messages, conversation_id=conversation.id) == 0
    assert await count(service_engine, conversations, id=conversation.id) == 0


async def test_the_database_refuses_an_unknown_sender_or_status(uow, service_engine):
    _conversation, (question, *_) = await a_conversation_with_a_branched_tree(uow)
    for column, value in (("sender", "system"), ("status", "lost")):
        with pytest.raises(sa.exc.IntegrityError):
            async with service_engine.begin() as conn:
                await conn.execute(
                    messages.update().where(messages.c.id == question.id).values({column: value})
                )


async def test_erasing_a_user_deletes_their_conversations_and_messages_and_nothing_of_others(
    uow, service_engine
):
    alices, _ = await a_conversation_with_a_branched_tree(uow)
    bobs, _ = await a_conversation_with_a_branched_tree(uow)

    await erase_user(
        EraseUser(user_id=alices.owner_id, cause_event_id=new_id()), uow(), SystemClock(), erase_users_data
    )

    assert await count(service_engine, conversations, owner_id=alices.owner_id) == 0
    assert await count(service_engine, messages, owner_id=alices.owner_id) == 0
    assert await count(service_engine, conversations, owner_id=bobs.owner_id) == 1
    assert await count(service_engine, messages, owner_id=bobs.owner_id) == 4
    assert await count(service_engine, outbox, subject="chat.user.erased") == 1


async def test_committing_stages_the_conversations_events_in_the_outbox_and_a_rollback_none(
    uow, service_engine
):
    conversation, _ = await a_conversation_with_a_branched_tree(uow)
    async with uow() as work:
        loaded = await work.conversations.get(conversation.id, conversation.owner_id)
        loaded.archive(True, NOW)
        await work.conversations.update(loaded)
        await work.commit()
    async with uow() as work:
        loaded = await work.conversations.get(conversation.id, conversation.owner_id)
        loaded.rename("Never stored", NOW)
        await work.conversations.update(loaded)
        # no commit: the change and its event are discarded
    async with uow() as work:
        gone = await work.conversations.get(conversation.id, conversation.owner_id)
        gone.delete(NOW)
        await work.conversations.delete(gone.id)
        await work.commit()

    async with service_engine.connect() as conn:
        rows = (await conn.execute(sa.select(outbox.c.subject, outbox.c.payload).order_by(outbox.c.id))).all()
    assert [subject for subject, _ in rows] == [
        "chat.conversation.created",
        "chat.message.completed",  # the tree's one finished reply
        "chat.conversation.updated",
        "chat.conversation.deleted",
    ]
    created, completed, updated, _deleted = (decoder.decode(payload) for _, payload in rows)
    assert (completed.conversation_id, completed.status) == (conversation.id, "completed")
    assert (created.conversation_id, created.owner_id, created.title) == (
        conversation.id,
        conversation.owner_id,
        "Planning",
    )
    assert updated.title == "Planning"
    assert not any(b"What next?" in payload for _, payload in rows)  # never message content
