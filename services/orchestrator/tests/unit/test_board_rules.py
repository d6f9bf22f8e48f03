"""The board's rules without I/O: ordering keys, dependency cycles, the next task, task plans."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from uuid import UUID

import pytest

from orchestrator.adapters.ai.offline_answers.tasks import write_task_plan
from orchestrator.adapters.ai.task_plans import PLAN_TITLE, MsgspecTaskPlanFormat
from orchestrator.adapters.postgres.tasks import key_between, keys_between
from orchestrator.domain.board import Card, blocked_ids, describe_cycle, find_cycle, next_task
from orchestrator.domain.plans import PlannedTask, plan_errors
from shared.kernel.ai import ChatMessage, ChatRequest

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def uid(n: int) -> UUID:
    return UUID(int=n)


def card(n: int, *, status="todo", priority="medium", position="a0", deps=()) -> Card:
    return Card(
        id=uid(n),
        title=f"T{n}",
        status=status,
        priority=priority,
        position=position,
        dependencies=tuple(uid(d) for d in deps),
        version=1,
        updated_at=NOW,
    )


def planned(n: int, *deps: int) -> PlannedTask:
    return PlannedTask(
        id=n,
        title=f"T{n}",
        description="",
        details="",
        test_strategy="",
        priority="medium",
        dependencies=deps,
    )


# -- fractional keys ------------------------------------------------------------------------


def test_a_key_between_two_neighbours_sorts_between_them_bytewise():
    lower, upper = key_between(None, None), None
    assert lower is not None
    upper = key_between(lower, None)
    assert upper is not None
    middle = key_between(lower, upper)
    assert middle is not None
    assert lower < middle < upper


def test_inserting_again_and_again_at_the_same_spot_keeps_every_key_in_order():
    keys = keys_between(None, None, 3)
    rng = random.Random(8)
    for _ in range(300):
        i = rng.randrange(len(keys) + 1)
        new = key_between(keys[i - 1] if i else None, keys[i] if i < len(keys) else None)
        assert new is not None
        keys.insert(i, new)
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


def test_no_key_fits_between_a_key_and_itself_or_a_smaller_one():
    assert key_between("a1", "a1") is None
    assert key_between("a2", "a1") is None


def test_keys_at_the_end_of_a_column_ascend_after_its_last_key():
    keys = keys_between("a5", None, 4)
    assert keys == sorted(keys)
    assert keys[0] > "a5"


# -- cycles ---------------------------------------------------------------------------------


def test_a_dependency_that_already_depends_on_the_task_closes_a_cycle_named_in_order():
    graph = {uid(2): [uid(1)], uid(3): [uid(2)]}  # 3 -> 2 -> 1
    cycle = find_cycle(graph, uid(1), [uid(3)])
    assert cycle == [uid(1), uid(3), uid(2), uid(1)]
    titles = {uid(1): "Design", uid(2): "Build", uid(3): "Ship"}
    assert describe_cycle(cycle, titles) == (
        f'"Design" ({uid(1)}) -> "Ship" ({uid(3)}) -> "Build" ({uid(2)}) -> "Design" ({uid(1)})'
    )


def test_dependencies_that_only_share_ancestors_are_no_cycle():
    graph = {uid(2): [uid(1)], uid(3): [uid(1)], uid(4): [uid(2), uid(3)]}
    assert find_cycle(graph, uid(5), [uid(4), uid(2)]) is None


def test_a_task_depending_on_itself_is_a_cycle_of_one():
    assert find_cycle({}, uid(1), [uid(1)]) == [uid(1), uid(1)]


# -- next task ------------------------------------------------------------------------------


def test_the_next_task_is_the_highest_priority_ready_one():
    cards = [card(1, priority="low"), card(2, priority="urgent", deps=[1]), card(3, priority="high")]
    assert next_task(cards).id == uid(3)


def test_a_task_whose_dependencies_are_done_is_ready():
    cards = [card(1, status="done"), card(2, priority="urgent", deps=[1]), card(3, priority="high")]
    assert next_task(cards).id == uid(2)


def test_among_equal_priorities_fewer_dependencies_then_board_order_wins():
    cards = [
        card(1, status="done"),
        card(2, deps=[1], position="a0"),
        card(3, status="backlog", position="a5"),
        card(4, position="a1"),
    ]
    # 3 and 4 have no dependency; backlog comes before todo on the board
    assert next_task(cards).id == uid(3)
    assert next_task([c for c in cards if c.id != uid(3)]).id == uid(4)


def test_no_task_is_next_when_all_are_done_or_blocked():
    assert next_task([card(1, status="done")]) is None
    assert next_task([card(1, deps=[2]), card(2, deps=[1])]) is None


def test_blocked_tasks_wait_for_a_dependency_not_done():
    cards = [card(1, status="done"), card(2, deps=[1]), card(3, deps=[2])]
    assert blocked_ids(cards) == {uid(3)}


# -- task plans -----------------------------------------------------------------------------


def test_a_plan_numbered_after_the_board_with_backward_dependencies_is_valid():
    assert plan_errors([planned(3, 1), planned(4, 3, 2)], existing=2, most=5) == []


@pytest.mark.parametrize(
    ("plan", "error"),
    [
        ([planned(1), planned(1)], "not unique"),
        ([planned(2), planned(3)], "must be 1..2"),
        ([planned(1, 1)], "depends on itself"),
        ([planned(1, 7)], "neither on the board nor in the plan"),
        ([planned(1, 2), planned(2, 1)], "dependency cycle"),
        ([], "between 1 and 3"),
        ([planned(n) for n in range(1, 5)], "between 1 and 3"),
    ],
)
def test_a_plan_task_master_would_refuse_is_refused_with_the_reason(plan, error):
    errors = plan_errors(plan, existing=0, most=3)
    assert any(error in e for e in errors), errors


def test_the_plan_format_reads_a_valid_answer_and_names_the_path_of_an_invalid_one():
    format_ = MsgspecTaskPlanFormat()
    task = {
        "id": 1,
        "title": "Set up",
        "description": "",
        "details": "",
        "test_strategy": "",
        "priority": "high",
        "dependencies": [],
    }
    assert format_.read(json.dumps({"tasks": [task]}))[0].title == "Set up"
    with pytest.raises(ValueError, match=r"\$\.tasks\[0\]\.title"):
        format_.read(json.dumps({"tasks": [{**task, "title": ""}]}))
    with pytest.raises(ValueError):
        format_.read("not json")
    with pytest.raises(ValueError):
        format_.read(json.dumps({"tasks": [{**task, "extra": 1}]}))


def test_the_plan_schema_is_one_object_titled_for_the_offline_model():
    schema = json.loads(MsgspecTaskPlanFormat().json_schema)
    assert schema["title"] == PLAN_TITLE
    assert schema["type"] == "object"
    assert "$ref" not in json.dumps(schema)


def test_the_offline_planner_writes_one_task_per_bullet_each_after_the_one_before():
    asked = (
        "Requirements:\n# Shop\n- Sign up with email\n- List products\n- Check out securely\n\n"
        "Tasks already on the board (new tasks may depend on them by id):\n1. Old [todo]\n\n"
        "Write at most 2 new tasks for what is not covered yet, numbered from 2."
    )
    request = ChatRequest(model="offline", messages=[ChatMessage(role="user", content=asked)])

    plan = MsgspecTaskPlanFormat().read(write_task_plan(request))

    assert [(t.id, t.title, t.dependencies) for t in plan] == [
        (2, "Sign up with email", (1,)),
        (3, "List products", (2,)),
    ]
    assert plan_errors(plan, existing=1, most=2) == []
