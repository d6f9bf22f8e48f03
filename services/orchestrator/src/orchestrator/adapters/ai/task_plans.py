"""The task plan as msgspec reads it: one Struct gives both the JSON schema the model is asked
to follow and the decoder that checks its answer (types, lengths, no unknown field).

The rules across tasks (ids numbered in order, dependencies that exist, no cycle) are the
domain's (``orchestrator.domain.plans``), checked after this.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final, Literal

import msgspec

from orchestrator.domain.plans import PlannedTask

PLAN_TITLE: Final = "task_plan"
MAX_PLAN_TASKS: Final = 50


class _Task(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    id: Annotated[int, msgspec.Meta(ge=1, le=2_000, description="The task's number.")]
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    description: Annotated[str, msgspec.Meta(max_length=10_000)]
    details: Annotated[str, msgspec.Meta(max_length=50_000)]
    test_strategy: Annotated[str, msgspec.Meta(max_length=10_000)]
    priority: Literal["low", "medium", "high", "urgent"]
    dependencies: Annotated[
        list[Annotated[int, msgspec.Meta(ge=1, le=2_000)]],
        msgspec.Meta(max_length=100, description="Numbers of the tasks that must be done first."),
    ]


class _Plan(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    tasks: Annotated[list[_Task], msgspec.Meta(min_length=1, max_length=MAX_PLAN_TASKS)]


def _inline_schema() -> dict[str, Any]:
    # msgspec answers {"$ref": ..., "$defs": ...}; structured-output engines (and the offline
    # model's lookup by title) want one self-contained object schema with the title on top
    generated = msgspec.json.schema(_Plan)
    definitions = generated["$defs"]
    plan = dict(definitions["_Plan"])
    plan["properties"] = {"tasks": {**plan["properties"]["tasks"], "items": definitions["_Task"]}}
    return {"title": PLAN_TITLE, **{k: v for k, v in plan.items() if k != "title"}}


_DECODER: Final = msgspec.json.Decoder(_Plan)


class MsgspecTaskPlanFormat:
    """``TaskPlanFormat`` with msgspec: the schema from the Struct, the answer decoded against it."""

    json_schema: Final = json.dumps(_inline_schema())

    def read(self, answer: str) -> list[PlannedTask]:
        try:
            # PostgreSQL's text holds no NUL: a model that writes one loses it, nothing else
            plan = _DECODER.decode(answer.replace("\\u0000", "").replace("\x00", ""))
        except msgspec.DecodeError as exc:  # ValidationError is one: it names the path ($.tasks[2].title)
            raise ValueError(str(exc)) from None
        return [
            PlannedTask(
                id=task.id,
                title=task.title,
                description=task.description,
                details=task.details,
                test_strategy=task.test_strategy,
                priority=task.priority,
                dependencies=tuple(task.dependencies),
            )
            for task in plan.tasks
        ]
