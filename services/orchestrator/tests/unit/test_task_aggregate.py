"""A task records what happened to it: a version per change, an activity line per field, an event."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from orchestrator.domain.tasks import Task, TaskCreated, TaskDraft, TaskMoved, TaskUpdated
from shared.kernel.errors import Conflict

NOW = datetime(2026, 12, 1, tzinfo=UTC)
ACTOR = UUID(int=99)


def new_task(**fields) -> Task:
    draft = TaskDraft(project_id=UUID(int=1), owner_id=ACTOR, title="Old", status="todo", **fields)
    return Task.create(draft, id=UUID(int=2), position="a0", actor_id=ACTOR, activity_id=UUID(int=3), now=NOW)


def test_a_new_task_is_at_version_1_announced_and_its_creation_is_in_its_history():
    task = new_task()
    assert task.version == 1
    [event] = task.pull_events()
    assert isinstance(event, TaskCreated)
    assert (event.status, event.position, event.version) == ("todo", "a0", 1)
    assert [(a.action, a.new) for a in task.activity] == [("created", "Old")]


def test_an_edit_logs_each_changed_field_old_to_new_and_bumps_the_version_once():
    task = new_task()
    task.pull_events()
    task.activity.clear()

    changed = task.edit(
        {"title": "New", "priority": "high", "description": ""},
        actor_id=ACTOR,
        ids=[UUID(int=10), UUID(int=11), UUID(int=12)],
        now=NOW,
    )

    assert changed
    assert task.version == 2
    assert [(a.field, a.old, a.new) for a in task.activity] == [
        ("title", "Old", "New"),
        ("priority", "medium", "high"),
    ]
    [event] = task.pull_events()
    assert isinstance(event, TaskUpdated)
    assert event.fields == ("title", "priority")


def test_an_edit_that_changes_nothing_records_nothing():
    task = new_task()
    task.pull_events()
    assert not task.edit({"title": "Old"}, actor_id=ACTOR, ids=[UUID(int=10)], now=NOW)
    assert task.version == 1
    assert task.pull_events() == []


def test_a_move_to_another_column_says_where_it_came_from():
    task = new_task()
    task.pull_events()
    task.activity.clear()

    task.move("review", "a5", actor_id=ACTOR, activity_id=UUID(int=10), now=NOW)

    [event] = task.pull_events()
    assert isinstance(event, TaskMoved)
    assert (event.from_status, event.status, event.position, event.version) == ("todo", "review", "a5", 2)
    assert [(a.field, a.old, a.new) for a in task.activity] == [("status", "todo", "review")]


def test_a_reorder_in_the_same_column_logs_the_key():
    task = new_task()
    task.activity.clear()
    task.move("todo", "Zz", actor_id=ACTOR, activity_id=UUID(int=10), now=NOW)
    assert [(a.field, a.old, a.new) for a in task.activity] == [("position", "a0", "Zz")]


def test_the_same_dependencies_in_another_order_are_no_change():
    a, b = UUID(int=20), UUID(int=21)
    task = new_task(dependencies=(a, b))
    task.pull_events()
    assert not task.set_dependencies((b, a), actor_id=ACTOR, activity_id=UUID(int=10), now=NOW)
    assert task.pull_events() == []


def test_a_task_of_an_archived_project_is_read_only():
    task = new_task()
    task.project_archived = True
    with pytest.raises(Conflict):
        task.ensure_writable()
