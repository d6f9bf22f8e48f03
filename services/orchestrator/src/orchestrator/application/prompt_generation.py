"""A prompt generated from a completed interview: version 1 of a new lineage, written by the AI model.

The model reads the interview's assessment and transcript with no transaction open, and
answers a title and the prompt's text as structured output (schema title
:data:`PROMPT_TITLE`); an answer that does not fit is asked for once more, then it is a 502
and nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final
from uuid import UUID

from orchestrator.application import interviewer
from orchestrator.application.interviews import owned_interview
from orchestrator.application.ports import ModelCatalog, ResolvedModel, UnitOfWork
from orchestrator.application.projects import owned_project
from orchestrator.application.prompts import SYSTEM_CLOCK, Versioned
from orchestrator.domain.interviews import Interview
from orchestrator.domain.prompts import MAX_CONTENT, MAX_TITLE, PromptLineage
from shared.kernel.ai import ChatMessage, ChatRequest, Parameters
from shared.kernel.clock import Clock
from shared.kernel.errors import Conflict, NotFound
from shared.kernel.ids import new_id

PROMPT_TITLE: Final = "requirements_prompt"
PROMPT_SCHEMA: Final = json.dumps(
    {
        "title": PROMPT_TITLE,
        "type": "object",
        # no length limits here (see interviewer.ASSESSMENT_SCHEMA): applied when read
        "properties": {
            "title": {"type": "string", "minLength": 1},
            "content": {"type": "string", "minLength": 1},
        },
        "required": ["title", "content"],
        "additionalProperties": False,
    }
)
_WRITER: Final = (
    "You turn a requirements interview into a structured requirements prompt for an AI coding "
    "assistant: overview, users, functional requirements, non-functional requirements, "
    "constraints, out of scope, open questions. Use Markdown headings and bullet lists."
)
SUMMARY: Final = "Summary: "
COVERED: Final = "Covered areas: "
OPEN: Final = "Open questions: "
QUESTION: Final = "Q: "
ANSWER: Final = "A: "
"""Line prefixes of the brief the model reads (the offline writer reads them back)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GeneratePrompt:
    owner_id: UUID
    project_id: UUID
    interview_id: UUID
    title: str | None = None
    """The title to give it; ``None``: the model's."""


def brief(project_name: str, interview: Interview) -> str:
    """What the model reads: the assessment, then the conversation, one line per item."""
    assessment = interview.assessment
    lines = [f"Project: {project_name}"]
    if assessment is not None:
        lines += [
            SUMMARY + assessment.summary.replace("\n", " "),
            COVERED + "; ".join(assessment.covered_areas),
            OPEN + "; ".join(assessment.open_questions),
        ]
    for message in interview.transcript:
        prefix = QUESTION if message.role == "assistant" else ANSWER
        lines.append(prefix + message.content.replace("\n", " "))
    return "\n".join(lines)


def generation_request(model: ResolvedModel, text: str) -> ChatRequest:
    return ChatRequest(
        model=model.name,
        messages=[ChatMessage(role="system", content=_WRITER), ChatMessage(role="user", content=text)],
        parameters=Parameters(temperature=0.2, max_tokens=2_000, json_schema=PROMPT_SCHEMA),
    )


def parse_prompt(text: str) -> tuple[str, str]:
    value = interviewer.parse_object(text)
    title, content = value.get("title"), value.get("content")
    if not isinstance(title, str) or not title.strip():
        raise interviewer.InvalidOutput("title must be a non-empty string")
    if not isinstance(content, str) or not content.strip():
        raise interviewer.InvalidOutput("content must be a non-empty string")
    if len(content) > MAX_CONTENT:
        raise interviewer.InvalidOutput(f"content must be at most {MAX_CONTENT} characters")
    # a prompt's title is a label for people: a long one is clipped, not refused
    return interviewer.clip(" ".join(title.split()), MAX_TITLE), content.replace("\x00", "").strip() + "\n"


async def generate_prompt(
    cmd: GeneratePrompt, uow: UnitOfWork, *, models: ModelCatalog, clock: Clock = SYSTEM_CLOCK
) -> Versioned:
    """Version 1 of a new prompt written by the model from a completed interview of the project
    (404: not the caller's, or of another project; 409: not completed, or the project archived)."""
    async with uow:
        project = await owned_project(uow, cmd.project_id, cmd.owner_id)
        project.ensure_writable()
        interview = await owned_interview(uow, cmd.interview_id, cmd.owner_id)
    if interview.project_id != project.id:
        raise NotFound(f"interview {interview.id} not found in project {project.id}")
    if interview.status != "completed":
        raise Conflict(
            f"interview {interview.id} is {interview.status}: only a completed interview makes a prompt"
        )
    model = await models.resolve()
    request = generation_request(model, brief(project.name, interview))
    (title, content), _ = await interviewer.structured(model, request, parse_prompt)
    async with uow:
        (await owned_project(uow, project.id, cmd.owner_id)).ensure_writable()
        lineage, first = PromptLineage.start(
            id=new_id(),
            project_id=project.id,
            owner_id=cmd.owner_id,
            title=cmd.title or title,
            content=content,
            now=clock.now(),
            interview_id=interview.id,
            model=model.name,
        )
        await uow.prompts.add(lineage, first)
        await uow.commit()
    return Versioned(prompt=first, lineage=lineage)
