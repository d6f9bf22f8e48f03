"""The conversation use cases through in-memory fakes: links checked against the ownership
replica, the list's filters and pages, changes announced once, branches read with their
siblings and selected; another owner's is not found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest
from services.chat.tests.unit.fakes import fake_uow

from aiorch_devkit.testing.fakes import FakeUnitOfWork
from chat.application import conversations as use_cases
from chat.application.conversations import KEEP, CreateConversation, UnusableReference, UpdateConversation
from chat.application.ownership import on_project_changed, on_task_changed
from chat.application.ports.conversation_lists import ConversationFilter
from chat.application.ports.ownership import ProjectFact, TaskFact
from chat.domain.conversations import ConversationCreated, ConversationDeleted, ConversationUpdated
from chat.domain.events import Recorded
from chat.domain.messages import Message
from shared.kernel.ai import Usage
from shared.kernel.errors import InvalidInput, NotFound
from shared.kernel.ids import new_id

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ALICE, BOB = new_id(), new_id()


class Clock:
    def __init__(self) -> None:
        self.current = T0

    def now(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current


@pytest.fixture
def uow() -> FakeUnitOfWork[Recorded]:
    return fake_uow()


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def a_project(uow, owner: UUID = ALICE) -> UUID:
    project_id = new_id()
    await on_project_changed(ProjectFact(project_id=project_id, owner_id=owner, deleted=False, at=T0), uow)
    return project_id


async def a_task(uow, project_id: UUID, owner: UUID = ALICE) -> UUID:
    task_id = new_id()
    fact = TaskFact(task_id=task_id, project_id=project_id, owner_id=owner, deleted=False, at=T0)
    await on_task_changed(fact, uow)
    return task_id


async def create(uow, clock, **fields):
    return await use_cases.create_conversation(CreateConversation(owner_id=ALICE, **fields), uow, clock=clock)


async def update(uow, clock, conversation_id: UUID, **fields):
    command = UpdateConversation(owner_id=ALICE, conversation_id=conversation_id, **fields)
    return await use_cases.update_conversation(command, uow, clock=clock)


# --- create and links -----------------------------------------------------------------------


async def test_creating_stores_the_conversation_and_announces_it(uow, clock):
    conversation = await create(uow, clock, title="Plan")
    assert uow.conversations.rows[conversation.id].title == "Plan"
    assert [type(e) for e in uow.published] == [ConversationCreated]


async def test_a_task_alone_brings_its_project(uow, clock):
    project = await a_project(uow)
    task = await a_task(uow, project)
    conversation = await create(uow, clock, task_id=task)
    assert (conversation.project_id, conversation.task_id) == (project, task)


@pytest.mark.parametrize("which", ["someone_elses_project", "unknown_project", "someone_elses_task"])
async def test_a_link_the_owner_cannot_use_is_refused_naming_the_field_and_nothing_is_kept(uow, clock, which):
    bobs_project = await a_project(uow, BOB)
    fields = {
        "someone_elses_project": {"project_id": bobs_project},
        "unknown_project": {"project_id": new_id()},
        "someone_elses_task": {"task_id": await a_task(uow, bobs_project, BOB)},
    }[which]
    with pytest.raises(UnusableReference) as refused:
        await create(uow, clock, **fields)
    assert refused.value.field == next(iter(fields))
    assert uow.conversations.rows == {}
    assert uow.published == []


async def test_a_task_of_another_project_is_refused_on_task_id(uow, clock):
    first, second = await a_project(uow), await a_project(uow)
    task = await a_task(uow, second)
    with pytest.raises(UnusableReference) as refused:
        await create(uow, clock, project_id=first, task_id=task)
    assert refused.value.field == "task_id"


async def test_a_deleted_project_and_its_tasks_cannot_be_linked(uow, clock):
    project = await a_project(uow)
    task = await a_task(uow, project)
    gone = ProjectFact(project_id=project, owner_id=ALICE, deleted=True, at=T0 + timedelta(minutes=1))
    await on_project_changed(gone, uow)
    for fields in ({"project_id": project}, {"task_id": task}):
        with pytest.raises(UnusableReference):
            await create(uow, clock, **fields)


# --- update ---------------------------------------------------------------------------------


async def test_several_changes_in_one_update_announce_one_event_stating_them_all(uow, clock):
    conversation = await create(uow, clock)
    changed = await update(uow, clock, conversation.id, title="New", pinned=True, archived=True)
    assert (changed.title, changed.pinned, changed.archived) == ("New", True, True)
    (created, updated) = uow.published
    assert isinstance(created, ConversationCreated)
    assert isinstance(updated, ConversationUpdated)
    assert (updated.title, updated.pinned, updated.archived) == ("New", True, True)


async def test_an_update_that_changes_nothing_announces_nothing(uow, clock):
    conversation = await create(uow, clock)
    await update(uow, clock, conversation.id, pinned=False, archived=False)
    await update(uow, clock, conversation.id)
    assert [type(e) for e in uow.published] == [ConversationCreated]


async def test_relinking_rules(uow, clock):
    project, other = await a_project(uow), await a_project(uow)
    task = await a_task(uow, project)
    conversation = await create(uow, clock, task_id=task)

    kept = await update(uow, clock, conversation.id, project_id=project)
    assert (kept.project_id, kept.task_id) == (project, task)  # the task is in it: kept
    moved = await update(uow, clock, conversation.id, project_id=other)
    assert (moved.project_id, moved.task_id) == (other, None)  # not in it: dropped
    relinked = await update(uow, clock, conversation.id, task_id=task)
    assert (relinked.project_id, relinked.task_id) == (project, task)
    task_off = await update(uow, clock, conversation.id, task_id=None)
    assert (task_off.project_id, task_off.task_id) == (project, None)
    all_off = await update(uow, clock, conversation.id, project_id=None)
    assert (all_off.project_id, all_off.task_id) == (None, None)


async def test_an_update_refused_changes_nothing(uow, clock):
    project = await a_project(uow)
    task = await a_task(uow, project)
    conversation = await create(uow, clock, title="Kept")
    with pytest.raises(UnusableReference) as refused:
        await update(uow, clock, conversation.id, title="Lost", project_id=None, task_id=task)
    assert refused.value.field == "task_id"
    with pytest.raises(InvalidInput):
        await update(uow, clock, conversation.id, pinned=True, title="   ")
    stored = uow.conversations.rows[conversation.id]
    assert (stored.title, stored.pinned) == ("Kept", False)
    assert len(uow.published) == 1


async def test_keep_is_the_default_of_every_update_field():
    command = UpdateConversation(owner_id=ALICE, conversation_id=new_id())
    assert {command.title, command.model_id, command.pinned, command.archived} == {KEEP}
    assert {command.project_id, command.task_id} == {KEEP}


# --- another owner, delete, list ------------------------------------------------------------


async def test_another_owners_conversation_is_not_found_everywhere(uow, clock):
    conversation = await create(uow, clock)
    with pytest.raises(NotFound):
        await use_cases.get_conversation(BOB, conversation.id, uow)
    with pytest.raises(NotFound):
        await use_cases.update_conversation(
            UpdateConversation(owner_id=BOB, conversation_id=conversation.id, title="Mine"), uow
        )
    with pytest.raises(NotFound):
        await use_cases.delete_conversation(BOB, conversation.id, uow)
    with pytest.raises(NotFound):
        await use_cases.read_branch(BOB, conversation.id, uow)
    assert conversation.id in uow.conversations.rows


async def test_deleting_removes_it_and_announces_it(uow, clock):
    conversation = await create(uow, clock)
    await use_cases.delete_conversation(ALICE, conversation.id, uow, clock=clock)
    assert uow.conversations.rows == {}
    assert isinstance(uow.published[-1], ConversationDeleted)


async def test_the_list_pages_newest_activity_first_and_filters(uow, clock):
    made = [await create(uow, clock, title=f"c{i}") for i in range(5)]
    await update(uow, clock, made[1].id, archived=True)
    await update(uow, clock, made[2].id, pinned=True)
    everything = await use_cases.list_conversations(
        ALICE, uow, where=ConversationFilter(), after=None, limit=10
    )
    assert [c.title for c in everything] == ["c4", "c3", "c2", "c0"]
    first = await use_cases.list_conversations(ALICE, uow, where=ConversationFilter(), after=None, limit=2)
    last = first[-1]
    rest = await use_cases.list_conversations(
        ALICE, uow, where=ConversationFilter(), after=(last.last_activity_at, last.id), limit=10
    )
    assert [c.title for c in first + rest] == ["c4", "c3", "c2", "c0"]
    pinned = await use_cases.list_conversations(
        ALICE, uow, where=ConversationFilter(pinned=True), after=None, limit=10
    )
    assert [c.title for c in pinned] == ["c2"]
    archived = await use_cases.list_conversations(
        ALICE, uow, where=ConversationFilter(archived=True), after=None, limit=10
    )
    assert [c.title for c in archived] == ["c1"]
    assert (
        await use_cases.list_conversations(BOB, uow, where=ConversationFilter(), after=None, limit=10) == []
    )


# --- branches -------------------------------------------------------------------------------


async def a_branched_tree(uow, clock) -> tuple[UUID, dict[str, Message]]:
    """q1 → r1 → q2; q1 edited into q1b (selected)."""
    conversation = await create(uow, clock)
    async with uow:
        loaded = await uow.conversations.get(conversation.id, ALICE, for_update=True)
        m: dict[str, Message] = {}
        m["q1"] = loaded.post(id=new_id(), content="Hi", parent=None, now=clock.now())
        m["r1"] = loaded.start_reply(id=new_id(), to=m["q1"], now=clock.now())
        m["r1"].complete(content="Hello", usage=Usage(prompt_tokens=2, completion_tokens=1), now=clock.now())
        m["q2"] = loaded.post(id=new_id(), content="More", parent=m["r1"], now=clock.now())
        m["q1b"] = loaded.edit(id=new_id(), original=m["q1"], content="Hey", now=clock.now())
        for message in m.values():
            await uow.messages.add(message)
        await uow.conversations.update(loaded)
        await uow.commit()
    return conversation.id, m


async def test_the_selected_branch_is_read_with_siblings_in_one_query(uow, clock):
    conversation_id, m = await a_branched_tree(uow, clock)
    before = uow.messages.queries
    branch = await use_cases.read_branch(ALICE, conversation_id, uow)
    assert uow.messages.queries == before + 1
    assert [step.message.id for step in branch.messages] == [m["q1b"].id]
    (only,) = branch.messages
    assert (only.sibling_ids, only.sibling_index) == ([m["q1"].id, m["q1b"].id], 1)


async def test_reading_through_an_inner_message_goes_down_to_its_newest_leaf(uow, clock):
    conversation_id, m = await a_branched_tree(uow, clock)
    branch = await use_cases.read_branch(ALICE, conversation_id, uow, through=m["q1"].id)
    assert [step.message.id for step in branch.messages] == [m["q1"].id, m["r1"].id, m["q2"].id]
    assert branch.leaf_id == m["q2"].id
    assert branch.conversation.selected_leaf_id == m["q1b"].id


async def test_selecting_remembers_the_branch_and_announces_nothing(uow, clock):
    conversation_id, m = await a_branched_tree(uow, clock)
    published = len(uow.published)
    branch = await use_cases.select_branch(ALICE, conversation_id, m["r1"].id, uow)
    assert branch.leaf_id == m["q2"].id
    assert uow.conversations.rows[conversation_id].selected_leaf_id == m["q2"].id
    assert len(uow.published) == published


async def test_a_message_outside_the_conversation_is_refused_on_leaf_id(uow, clock):
    conversation_id, _ = await a_branched_tree(uow, clock)
    _, other = await a_branched_tree(uow, clock)
    with pytest.raises(UnusableReference) as refused:
        await use_cases.select_branch(ALICE, conversation_id, other["q1"].id, uow)
    assert (refused.value.field, refused.value.where) == ("leaf_id", "body")
    with pytest.raises(UnusableReference) as refused:
        await use_cases.read_branch(ALICE, conversation_id, uow, through=new_id())
    assert refused.value.where == "query"


async def test_one_message_comes_with_its_siblings_and_only_for_its_owner(uow, clock):
    _, m = await a_branched_tree(uow, clock)
    one = await use_cases.get_message(ALICE, m["q1"].id, uow)
    assert (one.sibling_ids, one.sibling_index) == ([m["q1"].id, m["q1b"].id], 0)
    with pytest.raises(NotFound):
        await use_cases.get_message(BOB, m["q1"].id, uow)
