"""The rules of a conversation and its message tree (pure domain, no I/O)."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from chat.domain.conversations import (
    AUTO_TITLE_MAX,
    Conversation,
    ConversationCreated,
    ConversationDeleted,
    ConversationUpdated,
)
from chat.domain.messages import (
    Message,
    MessageCompleted,
    children_of,
    newest_leaf_under,
    path_to,
    siblings_of,
)
from shared.kernel.ai import Usage
from shared.kernel.errors import Conflict, InvalidInput

T0 = datetime(2026, 1, 1, tzinfo=UTC)
OWNER = uuid4()


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def new_conversation(**kwargs: Any) -> Conversation:
    conversation = Conversation.create(id=uuid4(), owner_id=OWNER, now=T0, **kwargs)
    conversation.pull_events()
    return conversation


def exchange(
    conversation: Conversation, parent: Message | None, text: str, now: datetime
) -> tuple[Message, Message]:
    """A user message and its completed reply."""
    question = conversation.post(id=uuid4(), content=text, parent=parent, now=now)
    answer = conversation.start_reply(id=uuid4(), to=question, now=now)
    answer.complete(content=f"re: {text}", usage=Usage(prompt_tokens=3, completion_tokens=5), now=now)
    answer.pull_events()
    return question, answer


def test_creating_a_conversation_records_its_ids_title_and_links_but_no_content() -> None:
    project, task = uuid4(), uuid4()
    conversation = Conversation.create(
        id=uuid4(), owner_id=OWNER, now=T0, title="  Plan   the release ", project_id=project, task_id=task
    )

    [event] = conversation.pull_events()
    assert event == ConversationCreated(
        occurred_at=T0,
        conversation_id=conversation.id,
        owner_id=OWNER,
        title="Plan the release",
        project_id=project,
        task_id=task,
        created_at=T0,
    )
    assert conversation.title_source == "user"
    assert (conversation.messages_count, conversation.last_activity_at) == (0, T0)


def test_a_conversation_created_without_a_title_waits_for_an_auto_title() -> None:
    conversation = new_conversation()

    assert (conversation.title, conversation.title_source) == ("", "none")
    assert not conversation.wants_auto_title
    exchange(conversation, None, "hello", at(1))
    assert conversation.wants_auto_title


def test_renaming_sets_a_user_title_that_the_model_never_overwrites() -> None:
    conversation = new_conversation()
    exchange(conversation, None, "hello", at(1))

    conversation.rename("Mine", at(2))

    assert conversation.auto_title("The model's idea", at(3)) is False
    assert (conversation.title, conversation.title_source) == ("Mine", "user")
    assert not conversation.wants_auto_title
    [event] = conversation.pull_events()
    assert isinstance(event, ConversationUpdated)
    assert event.title == "Mine"


def test_an_auto_title_is_cut_at_a_word_to_sixty_characters() -> None:
    conversation = new_conversation()
    long = '"' + " ".join(["word"] * 30) + '"'

    assert conversation.auto_title(long, at(1)) is True

    assert len(conversation.title) <= AUTO_TITLE_MAX
    assert conversation.title.startswith("word word")
    assert conversation.title.endswith("word…")
    assert conversation.title_source == "auto"


def test_an_empty_auto_title_leaves_the_title_empty() -> None:
    conversation = new_conversation()

    assert conversation.auto_title('  "" ', at(1)) is False
    assert (conversation.title, conversation.title_source) == ("", "none")
    assert conversation.pull_events() == []


@pytest.mark.parametrize("title", ["   ", "x" * 201])
def test_a_user_title_must_be_one_to_two_hundred_characters(title: str) -> None:
    conversation = new_conversation()

    with pytest.raises(InvalidInput):
        conversation.rename(title, at(1))


def test_pinning_and_archiving_record_an_update_once_and_do_not_count_as_activity() -> None:
    conversation = new_conversation()

    conversation.pin(True, at(1))
    conversation.pin(True, at(2))
    conversation.archive(True, at(3))

    events = conversation.pull_events()
    assert [(e.pinned, e.archived) for e in events if isinstance(e, ConversationUpdated)] == [
        (True, False),
        (True, True),
    ]
    assert len(events) == 2
    assert conversation.last_activity_at == T0


def test_deleting_records_the_deletion_with_the_conversation_as_it_was() -> None:
    conversation = new_conversation(title="Plan the release")

    conversation.delete(at(1))

    assert conversation.pull_events() == [
        ConversationDeleted(
            occurred_at=at(1),
            conversation_id=conversation.id,
            owner_id=OWNER,
            title="Plan the release",
            project_id=None,
            task_id=None,
            created_at=T0,
        )
    ]


def test_posting_and_replying_count_messages_select_the_newest_and_mark_activity() -> None:
    conversation = new_conversation()

    question = conversation.post(id=uuid4(), content="hi", parent=None, now=at(1))
    answer = conversation.start_reply(id=uuid4(), to=question, now=at(2))

    assert (question.sender, question.status, question.parent_id) == ("user", "completed", None)
    assert (answer.sender, answer.status, answer.parent_id, answer.content) == (
        "assistant",
        "pending",
        question.id,
        "",
    )
    assert conversation.messages_count == 2
    assert conversation.selected_leaf_id == answer.id
    assert conversation.last_activity_at == at(2)
    assert path_to([answer, question], conversation.selected_leaf_id) == [question, answer]


def test_a_reply_is_written_by_the_conversations_model() -> None:
    model = uuid4()
    conversation = new_conversation(model_id=model)
    question = conversation.post(id=uuid4(), content="hi", parent=None, now=at(1))

    assert conversation.start_reply(id=uuid4(), to=question, now=at(2)).model_id == model


def test_a_message_needs_some_content() -> None:
    conversation = new_conversation()

    with pytest.raises(InvalidInput):
        conversation.post(id=uuid4(), content=" \n", parent=None, now=at(1))
    assert conversation.messages_count == 0


def test_a_conversation_has_one_first_message() -> None:
    conversation = new_conversation()
    exchange(conversation, None, "hi", at(1))

    with pytest.raises(Conflict):
        conversation.post(id=uuid4(), content="again", parent=None, now=at(2))


def test_an_assistant_reply_cannot_answer_another_assistant_reply() -> None:
    conversation = new_conversation()
    _, answer = exchange(conversation, None, "hi", at(1))

    with pytest.raises(Conflict):
        conversation.start_reply(id=uuid4(), to=answer, now=at(2))


def test_a_user_message_cannot_follow_another_user_message() -> None:
    conversation = new_conversation()
    question = conversation.post(id=uuid4(), content="hi", parent=None, now=at(1))

    with pytest.raises(Conflict):
        conversation.post(id=uuid4(), content="hello?", parent=question, now=at(2))


def test_a_user_message_waits_for_the_reply_in_flight() -> None:
    conversation = new_conversation()
    question = conversation.post(id=uuid4(), content="hi", parent=None, now=at(1))
    answer = conversation.start_reply(id=uuid4(), to=question, now=at(2))

    with pytest.raises(Conflict):
        conversation.post(id=uuid4(), content="more", parent=answer, now=at(3))


def test_a_message_of_another_conversation_is_refused_as_a_parent() -> None:
    conversation, other = new_conversation(), new_conversation()
    _, foreign = exchange(other, None, "hi", at(1))

    with pytest.raises(InvalidInput):
        conversation.post(id=uuid4(), content="hi", parent=foreign, now=at(2))


def test_completing_a_reply_records_ids_model_usage_and_status_but_no_content() -> None:
    model = uuid4()
    conversation = new_conversation(model_id=model)
    question = conversation.post(id=uuid4(), content="hi", parent=None, now=at(1))
    answer = conversation.start_reply(id=uuid4(), to=question, now=at(2))

    answer.stream("Hel")
    answer.complete(content="Hello", usage=Usage(prompt_tokens=7, completion_tokens=2), now=at(3))

    assert (answer.status, answer.content, answer.usage.total_tokens, answer.finished_at) == (
        "completed",
        "Hello",
        9,
        at(3),
    )
    assert answer.pull_events() == [
        MessageCompleted(
            occurred_at=at(3),
            message_id=answer.id,
            conversation_id=conversation.id,
            owner_id=OWNER,
            model_id=model,
            status="completed",
            prompt_tokens=7,
            completion_tokens=2,
        )
    ]


def test_a_stopped_reply_keeps_its_partial_content() -> None:
    conversation = new_conversation()
    question = conversation.post(id=uuid4(), content="hi", parent=None, now=at(1))
    answer = conversation.start_reply(id=uuid4(), to=question, now=at(2))
    answer.stream("Once upon")

    answer.stop(now=at(3))

    assert (answer.status, answer.content) == ("stopped", "Once upon")
    [event] = answer.pull_events()
    assert isinstance(event, MessageCompleted)
    assert event.status == "stopped"


def test_a_failed_reply_keeps_its_partial_content_and_the_reason() -> None:
    conversation = new_conversation()
    question = conversation.post(id=uuid4(), content="hi", parent=None, now=at(1))
    answer = conversation.start_reply(id=uuid4(), to=question, now=at(2))
    answer.stream("Once")

    answer.fail(reason="generation lease expired", now=at(3))

    assert (answer.status, answer.content, answer.metadata["error"]) == (
        "failed",
        "Once",
        "generation lease expired",
    )


def test_a_reply_finishes_only_once() -> None:
    conversation = new_conversation()
    _, answer = exchange(conversation, None, "hi", at(1))

    with pytest.raises(Conflict):
        answer.stop(now=at(2))
    with pytest.raises(Conflict):
        answer.stream("more")
    assert answer.pull_events() == []


def test_editing_a_user_message_adds_a_selected_sibling_branch_and_keeps_the_original() -> None:
    conversation = new_conversation()
    q1, a1 = exchange(conversation, None, "first", at(1))
    q2, a2 = exchange(conversation, a1, "second", at(2))

    edited = conversation.edit(id=uuid4(), original=q2, content="second, better", now=at(3))
    a2b = conversation.start_reply(id=uuid4(), to=edited, now=at(4))
    messages = [q1, a1, q2, a2, edited, a2b]

    assert edited.parent_id == q2.parent_id == a1.id
    assert siblings_of(messages, edited) == [q2, edited]
    assert path_to(messages, conversation.selected_leaf_id) == [q1, a1, edited, a2b]
    assert path_to(messages, a2.id) == [q1, a1, q2, a2]
    assert conversation.messages_count == 6


def test_editing_the_first_message_adds_another_root() -> None:
    conversation = new_conversation()
    q1, a1 = exchange(conversation, None, "first", at(1))

    edited = conversation.edit(id=uuid4(), original=q1, content="first, again", now=at(2))

    assert edited.parent_id is None
    assert children_of([q1, a1, edited], None) == [q1, edited]


def test_only_a_user_message_can_be_edited() -> None:
    conversation = new_conversation()
    _, answer = exchange(conversation, None, "hi", at(1))

    with pytest.raises(Conflict):
        conversation.edit(id=uuid4(), original=answer, content="no", now=at(2))


@pytest.mark.parametrize("ending", ["complete", "stop", "fail"])
def test_regenerating_a_finished_reply_adds_a_pending_sibling_that_is_selected(ending: str) -> None:
    conversation = new_conversation()
    question = conversation.post(id=uuid4(), content="hi", parent=None, now=at(1))
    answer = conversation.start_reply(id=uuid4(), to=question, now=at(2))
    if ending == "complete":
        answer.complete(content="Hello", usage=Usage(), now=at(3))
    elif ending == "stop":
        answer.stop(now=at(3))
    else:
        answer.fail(reason="model unavailable", now=at(3))

    again = conversation.regenerate(id=uuid4(), original=answer, now=at(4))

    assert (again.sender, again.status, again.parent_id) == ("assistant", "pending", question.id)
    assert siblings_of([question, answer, again], again) == [answer, again]
    assert conversation.selected_leaf_id == again.id


def test_a_reply_still_in_flight_cannot_be_regenerated() -> None:
    conversation = new_conversation()
    question = conversation.post(id=uuid4(), content="hi", parent=None, now=at(1))
    answer = conversation.start_reply(id=uuid4(), to=question, now=at(2))

    with pytest.raises(Conflict):
        conversation.regenerate(id=uuid4(), original=answer, now=at(3))


def test_only_an_assistant_reply_can_be_regenerated() -> None:
    conversation = new_conversation()
    question, _ = exchange(conversation, None, "hi", at(1))

    with pytest.raises(Conflict):
        conversation.regenerate(id=uuid4(), original=question, now=at(2))


def test_selecting_a_branch_by_an_inner_message_selects_its_newest_leaf() -> None:
    conversation = new_conversation()
    q1, a1 = exchange(conversation, None, "first", at(1))
    q2, a2 = exchange(conversation, a1, "second", at(2))
    edited = conversation.edit(id=uuid4(), original=q2, content="other", now=at(3))
    messages = [q1, a1, q2, a2, edited]

    conversation.select(newest_leaf_under(messages, q2.id))

    assert conversation.selected_leaf_id == a2.id
    assert path_to(messages, conversation.selected_leaf_id) == [q1, a1, q2, a2]
    assert newest_leaf_under(messages, q1.id) == edited.id


def test_the_path_of_an_empty_conversation_is_empty() -> None:
    assert path_to([], new_conversation().selected_leaf_id) == []


def test_siblings_made_in_the_same_instant_are_ordered_by_id() -> None:
    parent = uuid4()
    conversation_id = uuid4()
    first, second = (
        Message(
            id=UUID(int=n),
            conversation_id=conversation_id,
            owner_id=OWNER,
            parent_id=parent,
            sender="user",
            content="x",
            created_at=T0,
        )
        for n in (2, 1)
    )

    assert siblings_of([first, second], first) == [second, first]
