"""Generate a conventional commit message for a task and a diff summary (AI).

The model answers structured output (:data:`SCHEMA`, title ``commit_message``); the message is
laid out from its parts and checked with commitlint's config-conventional. An answer that does
not decode or breaks a rule is retried once, with the violations told to the model; a second
failure is a ``ModelError`` (502). Nothing is written: no transaction is open while the model runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final
from uuid import UUID

from orchestrator.application.commits import Checked, check_message
from orchestrator.application.ports import ModelCatalog, UnitOfWork
from orchestrator.domain.conventional import TYPES, Footer, render
from shared.kernel.ai import ChatMessage, ChatRequest, ModelError, Parameters
from shared.kernel.errors import NotFound

TITLE: Final = "commit_message"
SCHEMA: Final[dict[str, Any]] = {
    "title": TITLE,
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "scope", "subject", "body", "breaking", "footers"],
    "properties": {
        "type": {"type": "string", "enum": list(TYPES)},
        "scope": {"type": ["string", "null"], "pattern": "^[a-z0-9][a-z0-9._/-]{0,29}$"},
        "subject": {"type": "string", "minLength": 1, "maxLength": 72},
        "body": {"type": ["string", "null"], "maxLength": 2000},
        "breaking": {"type": ["string", "null"], "description": "what breaks, if anything"},
        "footers": {
            "type": "array",
            "maxItems": 10,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["token", "value"],
                "properties": {
                    "token": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9-]*$"},
                    "value": {"type": "string", "minLength": 1},
                },
            },
        },
    },
}
_SYSTEM: Final = (
    "You write git commit messages following Conventional Commits 1.0 and commitlint's "
    "config-conventional: a type from the list, an optional lower-case scope, a subject in the "
    "imperative, lower-case first letter, no final full stop, the header at most 100 characters, "
    "body lines at most 100 characters. Answer only JSON matching the schema."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class GenerateCommitMessage:
    owner_id: UUID
    task_id: UUID
    diff_summary: str
    model_id: UUID | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneratedMessage:
    message: str
    checked: Checked
    model: str
    attempts: int


def _message_from(answer: str) -> str:
    """The message the structured answer describes; ``ValueError`` when it is not that shape."""
    data = json.loads(answer)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("type"), str)
        or not isinstance(data.get("subject"), str)
    ):
        raise ValueError("the answer is not a commit_message object")
    footers = tuple(
        Footer(token=str(f["token"]), value=str(f["value"]))
        for f in data.get("footers") or []
        if isinstance(f, dict) and "token" in f and "value" in f
    )
    return render(
        type=data["type"],
        scope=data.get("scope") or None,
        subject=data["subject"],
        body=data.get("body") or None,
        breaking=data.get("breaking") or None,
        footers=footers,
        bang=bool(data.get("breaking")),
    )


async def generate_commit_message(
    cmd: GenerateCommitMessage, uow: UnitOfWork, models: ModelCatalog
) -> GeneratedMessage:
    """A message for one of the caller's tasks that passes validation.

    Raises:
        NotFound: the task is not the caller's (or the model id names no enabled model).
        ModelError: the model failed, or its answer stayed invalid after one retry (502).
    """
    async with uow:
        task = await uow.task_links.find(cmd.task_id, cmd.owner_id)
    if task is None:
        raise NotFound(f"task {cmd.task_id} not found")
    resolved = await models.resolve(cmd.model_id)
    messages = [
        ChatMessage(role="system", content=_SYSTEM),
        ChatMessage(role="user", content=f"Task: {task.title}\n\nDiff summary:\n{cmd.diff_summary}"),
    ]
    parameters = Parameters(json_schema=json.dumps(SCHEMA), temperature=0.2)
    problem = ""
    for attempt in (1, 2):
        completion = await resolved.model.complete(
            ChatRequest(model=resolved.name, messages=messages, parameters=parameters)
        )
        try:
            message = _message_from(completion.content)
        except (ValueError, KeyError, TypeError) as exc:
            problem = f"the answer is not valid JSON for the schema ({exc})"
        else:
            checked = check_message(message)
            if checked.valid:
                return GeneratedMessage(
                    message=message, checked=checked, model=resolved.name, attempts=attempt
                )
            problem = "; ".join(f"{v.rule}: {v.message}" for v in checked.violations if v.level == "error")
        messages = [
            *messages,
            ChatMessage(role="assistant", content=completion.content),
            ChatMessage(role="user", content=f"That message is invalid: {problem}. Answer again, fixed."),
        ]
    raise ModelError(f"the model's commit message stayed invalid after a retry: {problem}")
