"""The offline model's task plan: one task per bullet of the requirements (else per heading,
else per sentence), in order, each depending on the one before it.

Deterministic and valid by construction: ids numbered from where the request says, at most
as many tasks as it asks for, dependencies only backwards (no cycle).
"""

from __future__ import annotations

import json
import re
from typing import Final

from shared.kernel.ai import ChatRequest

_BULLET: Final = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+(.+?)\s*$")
_HEADING: Final = re.compile(r"^\s*#{1,6}\s+(.+?)\s*#*\s*$")
_SENTENCE: Final = re.compile(r"[^.!?\n]{8,}[.!?]?")
_MOST: Final = re.compile(r"at most (\d+) new tasks")
_FIRST: Final = re.compile(r"numbered from (\d+)")
_LOW: Final = ("nice to have", "optional", "could", "later")
_HIGH: Final = ("must", "security", "secure", "auth", "critical")


def _items(requirements: str) -> list[str]:
    lines = requirements.splitlines()
    for pattern in (_BULLET, _HEADING):
        found = [m.group(1).strip() for line in lines if (m := pattern.match(line))]
        if found:
            return found
    return [s.strip() for s in _SENTENCE.findall(requirements) if s.strip()] or [
        "Build what the requirements ask"
    ]


def _priority(item: str, first: bool) -> str:
    text = item.casefold()
    if first or any(word in text for word in _HIGH):
        return "high"
    return "low" if any(word in text for word in _LOW) else "medium"


def write_task_plan(request: ChatRequest) -> str:
    """A ``task_plan`` answer derived from the request's requirements and board."""
    asked = next((m.content for m in request.messages if m.role == "user"), "")
    most = int(m.group(1)) if (m := _MOST.search(asked)) else 10
    first = int(m.group(1)) if (m := _FIRST.search(asked)) else 1
    requirements = asked.removeprefix("Requirements:\n").split("\n\nTasks already on the board", 1)[0]
    requirements = requirements.split("\n\nWrite at most", 1)[0]
    tasks = []
    for offset, item in enumerate(_items(requirements)[:most]):
        number = first + offset
        title = item.rstrip(".:;")[:120] or f"Task {number}"
        tasks.append(
            {
                "id": number,
                "title": title,
                "description": item[:2_000],
                "details": f"Implement: {item[:2_000]}",
                "test_strategy": f"Automated tests show that this works as required: {title}",
                "priority": _priority(item, offset == 0),
                # each step builds on the one before it (the first on the board's last task)
                "dependencies": [number - 1] if number > 1 else [],
            }
        )
    return json.dumps({"tasks": tasks})
