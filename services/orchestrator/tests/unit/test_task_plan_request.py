"""The task plan asked of a model is bounded at the tasks asked for, so a model that fills a list
to its bound (a small one under llama.cpp's grammar) plans no more than that."""

import json

from orchestrator.adapters.ai.task_plans import MsgspecTaskPlanFormat
from orchestrator.application.task_generation import _at_most


def test_the_plan_schema_asks_for_at_most_num_tasks_tasks_and_keeps_the_rest():
    general = json.loads(MsgspecTaskPlanFormat.json_schema)

    asked = json.loads(_at_most(MsgspecTaskPlanFormat.json_schema, 3))

    assert asked["properties"]["tasks"]["maxItems"] == 3
    assert asked["title"] == general["title"] == "task_plan"
    asked["properties"]["tasks"]["maxItems"] = general["properties"]["tasks"]["maxItems"]
    assert asked == general


def test_a_schema_of_another_shape_is_sent_as_it_is():
    schema = json.dumps({"type": "array", "items": {"type": "string"}})

    assert _at_most(schema, 3) == schema
