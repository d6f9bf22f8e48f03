"""The task plan's JSON schema as one request asks for it: bounded at the tasks asked for, and, for
a model that samples under a grammar, numbered.

A model under a grammar (llama.cpp, provider ``local``) fills a list to its bound, so the
plan's list is bounded at ``num_tasks``. A small one also numbers tasks and picks
dependencies at random (a task depending on itself, ids out of order: two out of three plans
of SmolLM2-135M were refused twice, a 502). Its grammar can carry those rules: the plan
becomes a tuple of exactly ``min(num_tasks, GRAMMAR_PLAN_TASKS)`` tasks, the i-th numbered
``existing + i`` and able to depend only on tasks before it (on the board, or earlier in the
plan), so every plan it writes passes :func:`orchestrator.domain.plans.plan_errors`: no
self-dependency, no unknown id, no cycle. Other providers keep the general schema: not every
API takes ``prefixItems``.

Standard-library ``json`` only: the application may not import msgspec (import-linter).
"""

from __future__ import annotations

import json
from typing import Any, Final

GRAMMAR_PLAN_TASKS: Final = 4
"""The most tasks a numbered plan holds: what the local model's 2048-token context fits, with
its strings capped (``shared.ai.llama_json``); a plan may hold fewer tasks than asked."""


def plan_schema(schema: str, *, existing: int, most: int, numbered: bool) -> str:
    """``schema`` (the plan's, ``{"tasks": [task...]}``) asking for at most ``most`` tasks
    (exactly ``min(most, GRAMMAR_PLAN_TASKS)``, numbered from ``existing + 1``, when
    ``numbered``). A schema of another shape is returned as it is."""
    value = json.loads(schema)
    tasks = value.get("properties", {}).get("tasks") if isinstance(value, dict) else None
    if not isinstance(tasks, dict):
        return schema
    tasks["maxItems"] = min(tasks.get("maxItems", most), most)
    item = tasks.get("items")
    if numbered and isinstance(item, dict) and isinstance(item.get("properties"), dict):
        count = min(most, GRAMMAR_PLAN_TASKS)
        tasks["prefixItems"] = [_numbered(item, existing + i) for i in range(1, count + 1)]
        tasks["items"] = False
        tasks["minItems"] = tasks["maxItems"] = count
    return json.dumps(value)


def _numbered(item: dict[str, Any], number: int) -> dict[str, Any]:
    earlier = list(range(1, number))
    dependencies: dict[str, Any] = (
        {"type": "array", "items": {"type": "integer", "enum": earlier}}
        if earlier
        else {"type": "array", "items": {"type": "integer"}, "maxItems": 0}
    )
    properties = {**item["properties"], "id": {"type": "integer", "const": number}}
    properties["dependencies"] = dependencies
    return {**item, "properties": properties}
