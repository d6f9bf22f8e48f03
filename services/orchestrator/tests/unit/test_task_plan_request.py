"""The task plan's schema as one request asks for it: bounded at the tasks asked for, and numbered
for a model under a grammar so that whatever it writes passes Task Master's checks."""

import json

import jsonschema_rs

from orchestrator.adapters.ai.task_plans import MsgspecTaskPlanFormat
from orchestrator.application.task_plan_schema import GRAMMAR_PLAN_TASKS, plan_schema
from orchestrator.domain.plans import plan_errors

GENERAL = MsgspecTaskPlanFormat.json_schema


def task(number: int, dependencies: list[int]) -> dict:
    return {
        "id": number,
        "title": f"Task {number}",
        "description": "",
        "details": "",
        "test_strategy": "",
        "priority": "low",
        "dependencies": dependencies,
    }


def test_the_general_schema_asks_for_at_most_num_tasks_tasks_and_keeps_the_rest():
    general = json.loads(GENERAL)

    asked = json.loads(plan_schema(GENERAL, existing=0, most=3, numbered=False))

    assert asked["properties"]["tasks"]["maxItems"] == 3
    asked["properties"]["tasks"]["maxItems"] = general["properties"]["tasks"]["maxItems"]
    assert asked == general


def test_a_numbered_plan_continues_the_board_and_depends_only_on_earlier_tasks():
    schema = json.loads(plan_schema(GENERAL, existing=2, most=3, numbered=True))
    tuple_items = schema["properties"]["tasks"]["prefixItems"]

    assert [item["properties"]["id"]["const"] for item in tuple_items] == [3, 4, 5]
    assert [item["properties"]["dependencies"]["items"]["enum"] for item in tuple_items] == [
        [1, 2],
        [1, 2, 3],
        [1, 2, 3, 4],
    ]
    assert schema["title"] == "task_plan"


def test_what_a_numbered_schema_allows_passes_the_plan_checks_and_what_it_refuses_would_fail():
    schema = json.loads(plan_schema(GENERAL, existing=0, most=3, numbered=True))
    written = {"tasks": [task(1, []), task(2, [1]), task(3, [1, 2])]}
    self_dependent = {"tasks": [task(1, [1]), task(2, []), task(3, [])]}
    misnumbered = {"tasks": [task(2, []), task(1, []), task(3, [])]}

    jsonschema_rs.validate(schema, written)
    assert plan_errors(MsgspecTaskPlanFormat().read(json.dumps(written)), existing=0, most=3) == []
    assert not jsonschema_rs.is_valid(schema, self_dependent)
    assert not jsonschema_rs.is_valid(schema, misnumbered)


def test_a_numbered_plan_holds_at_most_what_the_local_context_fits():
    schema = json.loads(plan_schema(GENERAL, existing=0, most=10, numbered=True))

    assert len(schema["properties"]["tasks"]["prefixItems"]) == GRAMMAR_PLAN_TASKS
    assert schema["properties"]["tasks"]["maxItems"] == GRAMMAR_PLAN_TASKS


def test_a_schema_of_another_shape_is_sent_as_it_is():
    schema = json.dumps({"type": "array", "items": {"type": "string"}})

    assert plan_schema(schema, existing=0, most=3, numbered=True) == schema
