"""The chat-session projection's rules: newer wins, deleted stays deleted, unowned links are shown nowhere."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from orchestrator.domain.chat_sessions import ConversationChange, apply
from shared.kernel.ids import new_id

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PROJECT, OWNER = new_id(), new_id()


def change(minutes: int = 0, **fields: object) -> ConversationChange:
    base = ConversationChange(
        conversation_id=CONVERSATION,
        owner_id=OWNER,
        title="Login flow",
        project_id=PROJECT,
        task_id=None,
        created_at=T0,
        updated_at=T0 + timedelta(minutes=minutes),
    )
    return replace(base, **fields)  # type: ignore[arg-type]


CONVERSATION = new_id()


def test_a_created_conversation_on_an_owned_project_is_linked():
    session = apply(None, change(), owned_project=True)
    assert session is not None
    assert (session.state, session.project_id, session.title) == ("linked", PROJECT, "Login flow")


def test_a_newer_change_replaces_the_title_and_links():
    task = new_id()
    first = apply(None, change(), owned_project=True)
    later = apply(first, change(5, title="Login v2", task_id=task), owned_project=True)
    assert later is not None
    assert (later.title, later.task_id, later.as_of) == ("Login v2", task, T0 + timedelta(minutes=5))


def test_an_older_or_repeated_change_changes_nothing():
    current = apply(None, change(5, title="new"), owned_project=True)
    assert apply(current, change(1, title="old"), owned_project=True) is None
    assert apply(current, change(5, title="new"), owned_project=True) is None


def test_a_deleted_session_stays_deleted_even_for_a_later_update():
    deleted = apply(apply(None, change(), owned_project=True), change(3, deleted=True), owned_project=True)
    assert deleted is not None
    assert deleted.state == "deleted"
    assert apply(deleted, change(9, title="back?"), owned_project=True) is None


def test_a_deletion_that_arrives_before_the_creation_leaves_a_tombstone():
    tombstone = apply(None, change(3, deleted=True), owned_project=True)
    assert tombstone is not None
    assert tombstone.state == "deleted"
    assert apply(tombstone, change(0), owned_project=True) is None


def test_a_link_to_a_project_the_owner_does_not_own_is_not_stored():
    assert apply(None, change(), owned_project=False) is None
    assert apply(None, change(project_id=None), owned_project=False) is None


def test_moving_a_session_off_the_owners_projects_hides_it_until_linked_again():
    linked = apply(None, change(), owned_project=True)
    hidden = apply(linked, change(2, project_id=None), owned_project=False)
    assert hidden is not None
    assert hidden.state == "unlinked"
    again = apply(hidden, change(4), owned_project=True)
    assert again is not None
    assert again.state == "linked"


def test_an_event_claiming_another_owner_is_not_believed():
    linked = apply(None, change(), owned_project=True)
    assert apply(linked, change(5, owner_id=new_id()), owned_project=True) is None
