"""What orchestrator asks the AI model during an interview, and how its answers are read.

The requests are plain ``shared.kernel.ai`` values; structured answers are checked here with
the standard library's ``json`` plus explicit checks, because application code may not import
msgspec (import-linter's ``application-pure`` contract). An answer that does not parse or fit
is asked for once more, then the call fails as a ``ModelError`` (a 502 problem).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

from orchestrator.application.ports import ResolvedModel
from orchestrator.domain.interviews import Assessment, ConversationMessage, Interview
from shared.kernel.ai import ChatCompletion, ChatMessage, ChatRequest, ModelError, Parameters, Usage

T = TypeVar("T")

ASSESSMENT_TITLE: Final = "interview_assessment"
MAX_ITEMS: Final = 20
MAX_ITEM_CHARS: Final = 300
MAX_SUMMARY_CHARS: Final = 4_000
# No upper limits on lengths or counts in the schema: llama.cpp turns them into grammar
# repetitions and its server dies on a few thousand (seen here with maxLength 4000); they are
# applied when the answer is read instead (long items clipped, extra items dropped).
_TEXT = {"type": "string", "minLength": 1}
_ITEMS = {"type": "array", "items": _TEXT}
ASSESSMENT_SCHEMA: Final = json.dumps(
    {
        "title": ASSESSMENT_TITLE,
        "type": "object",
        "properties": {
            "covered_areas": _ITEMS,
            "open_questions": _ITEMS,
            "summary": _TEXT,
            "complete": {"type": "boolean"},
        },
        "required": ["covered_areas", "open_questions", "summary", "complete"],
        "additionalProperties": False,
    }
)

_INTERVIEWER: Final = (
    "You are a senior product analyst interviewing the owner of a software project to make its "
    "requirements clear. Ask exactly one short, specific question about what is still unclear "
    "(users, goals, scope, data, integrations, constraints, quality, what it must not do). "
    "Answer with the question only."
)
_ASSESSOR: Final = (
    "You judge a requirements interview. From the conversation, list the requirement areas it "
    "covered, the questions still open, and a summary of the requirements. Say complete=true "
    "once users, goals, scope and constraints are clear enough to plan the work."
)
_FINISHER: Final = (
    "The owner ended this requirements interview. From the conversation, list the requirement "
    "areas it covered, the questions still open, and a summary of the requirements; complete=true."
)


class InvalidOutput(ValueError):
    """The model's structured answer does not fit its schema."""


def opening(project_name: str, project_description: str, interview: Interview) -> str:
    """What the owner said before the first question: the project, the topic and the goal."""
    parts = [f"Project: {project_name}."]
    if project_description:
        parts.append(project_description)
    if interview.topic:
        parts.append(f"Topic: {interview.topic}.")
    if interview.goal:
        parts.append(f"Goal: {interview.goal}.")
    return " ".join(parts)


def _conversation(intro: str, transcript: Sequence[ConversationMessage]) -> list[ChatMessage]:
    return [ChatMessage(role="user", content=intro)] + [
        ChatMessage(role=m.role, content=m.content) for m in transcript
    ]


def question_request(
    model: ResolvedModel,
    intro: str,
    transcript: Sequence[ConversationMessage],
    assessment: Assessment | None = None,
) -> ChatRequest:
    """The next question's request; the latest assessment, if any, steers it to what is still open."""
    system = _INTERVIEWER
    if assessment is not None:
        system += f" Covered so far: {'; '.join(assessment.covered_areas) or 'nothing yet'}."
        if assessment.open_questions:
            system += f" Still open: {'; '.join(assessment.open_questions)}."
    return ChatRequest(
        model=model.name,
        messages=[ChatMessage(role="system", content=system), *_conversation(intro, transcript)],
        parameters=Parameters(temperature=0.3, max_tokens=200),
    )


def assessment_request(
    model: ResolvedModel, intro: str, transcript: Sequence[ConversationMessage], *, finishing: bool
) -> ChatRequest:
    return ChatRequest(
        model=model.name,
        messages=[
            ChatMessage(role="system", content=_FINISHER if finishing else _ASSESSOR),
            *_conversation(intro, transcript),
        ],
        parameters=Parameters(temperature=0.0, max_tokens=800, json_schema=ASSESSMENT_SCHEMA),
    )


def clip(text: str, limit: int) -> str:
    """``text`` without NUL characters (PostgreSQL text holds none), at most ``limit`` characters."""
    text = text.replace("\x00", "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _strings(value: Any, name: str) -> tuple[str, ...]:
    """Up to :data:`MAX_ITEMS` non-empty strings, each clipped to :data:`MAX_ITEM_CHARS`."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidOutput(f"{name} must be a list of strings")
    return tuple(clip(item, MAX_ITEM_CHARS) for item in value if item.strip())[:MAX_ITEMS]


def parse_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidOutput("the answer is not JSON") from None
    if not isinstance(value, dict):
        raise InvalidOutput("the answer is not a JSON object")
    return value


def parse_assessment(text: str) -> Assessment:
    value = parse_object(text)
    summary, complete = value.get("summary"), value.get("complete")
    if not isinstance(summary, str) or not summary.strip():
        raise InvalidOutput("summary must be a non-empty string")
    if not isinstance(complete, bool):
        raise InvalidOutput("complete must be a boolean")
    return Assessment(
        covered_areas=_strings(value.get("covered_areas"), "covered_areas"),
        open_questions=_strings(value.get("open_questions"), "open_questions"),
        summary=clip(summary, MAX_SUMMARY_CHARS),
        complete=complete,
    )


async def structured(
    model: ResolvedModel, request: ChatRequest, parse: Callable[[str], T]
) -> tuple[T, Usage]:
    """The model's answer parsed by ``parse``, asked once more if it does not fit.

    Raises:
        ModelError: the model failed, or its answer did not fit twice (502).
    """
    used = Usage()
    for attempt in (1, 2):
        completion: ChatCompletion = await model.model.complete(request)
        used = Usage(
            prompt_tokens=used.prompt_tokens + completion.usage.prompt_tokens,
            completion_tokens=used.completion_tokens + completion.usage.completion_tokens,
        )
        try:
            return parse(completion.content), used
        except InvalidOutput as invalid:
            if attempt == 2:
                raise ModelError(f"the model's answer stayed invalid after a retry: {invalid}") from None
    raise AssertionError("unreachable")
