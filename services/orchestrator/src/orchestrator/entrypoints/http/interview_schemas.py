"""Request and response bodies of ``/interviews`` and ``/projects/{id}/interviews``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec

from orchestrator.domain.interviews import (
    MAX_ANSWER_CHARS,
    MAX_GOAL_CHARS,
    MAX_TOPIC_CHARS,
    Interview,
    InterviewStatus,
)
from shared.kernel.ai import Usage


class InterviewCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    topic: Annotated[
        str, msgspec.Meta(max_length=MAX_TOPIC_CHARS, description="What to interview about (optional).")
    ] = ""
    goal: Annotated[
        str,
        msgspec.Meta(max_length=MAX_GOAL_CHARS, description="What the owner wants to achieve (optional)."),
    ] = ""


class InterviewUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    topic: (
        Annotated[
            str, msgspec.Meta(max_length=MAX_TOPIC_CHARS, description="A new topic; absent or null keeps it.")
        ]
        | None
    ) = None
    goal: (
        Annotated[
            str, msgspec.Meta(max_length=MAX_GOAL_CHARS, description="A new goal; absent or null keeps it.")
        ]
        | None
    ) = None


class AnswerCreate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    content: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=MAX_ANSWER_CHARS,
            description=f"The answer to the waiting question (up to {MAX_ANSWER_CHARS} characters).",
        ),
    ]


class MessageResponse(msgspec.Struct, frozen=True, kw_only=True):
    role: Annotated[
        Literal["assistant", "user"], msgspec.Meta(description="`assistant`: a question; `user`: an answer.")
    ]
    content: str
    created_at: datetime


class AssessmentResponse(msgspec.Struct, frozen=True, kw_only=True):
    covered_areas: list[str]
    open_questions: list[str]
    summary: str
    complete: Annotated[bool, msgspec.Meta(description="Whether the model judged the requirements covered.")]


class UsageResponse(msgspec.Struct, frozen=True, kw_only=True):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, usage: Usage) -> UsageResponse:
        return cls(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
        )


class InterviewResponse(msgspec.Struct, frozen=True, kw_only=True):
    id: UUID
    project_id: UUID
    topic: str
    goal: str
    status: Annotated[
        InterviewStatus,
        msgspec.Meta(description="`pending` → `in_progress` → `completed` or `cancelled` (both final)."),
    ]
    transcript: list[MessageResponse]
    question_pending: Annotated[bool, msgspec.Meta(description="A question waits for its answer.")]
    questions: Annotated[
        int,
        msgspec.Meta(
            description=(
                "Questions asked: at most the setting `interview.max_questions`; the answer to the "
                "last one completes the interview."
            )
        ),
    ]
    answers: int
    assessment: Annotated[
        AssessmentResponse | None, msgspec.Meta(description="The model's latest judgement of the transcript.")
    ]
    model: Annotated[
        str | None, msgspec.Meta(description="The model that wrote the latest question or assessment.")
    ]
    usage: Annotated[UsageResponse, msgspec.Meta(description="Tokens used by every model call so far.")]
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, interview: Interview) -> InterviewResponse:
        a = interview.assessment
        return cls(
            id=interview.id,
            project_id=interview.project_id,
            topic=interview.topic,
            goal=interview.goal,
            status=interview.status,
            transcript=[
                MessageResponse(role=m.role, content=m.content, created_at=m.created_at)
                for m in interview.transcript
            ],
            question_pending=interview.question_pending,
            questions=interview.questions,
            answers=interview.answers,
            assessment=None
            if a is None
            else AssessmentResponse(
                covered_areas=list(a.covered_areas),
                open_questions=list(a.open_questions),
                summary=a.summary,
                complete=a.complete,
            ),
            model=interview.model,
            usage=UsageResponse.of(
                Usage(prompt_tokens=interview.prompt_tokens, completion_tokens=interview.completion_tokens)
            ),
            created_at=interview.created_at,
            updated_at=interview.updated_at,
            completed_at=interview.completed_at,
        )


class AnswerResponse(msgspec.Struct, frozen=True, kw_only=True):
    completed: Annotated[bool, msgspec.Meta(description="Whether this answer completed the interview.")]
    interview: InterviewResponse


class QuestionChunkData(msgspec.Struct, frozen=True, kw_only=True):
    """The data of a `chunk` event."""

    delta: str


class QuestionDoneData(msgspec.Struct, frozen=True, kw_only=True):
    """The data of the `done` event: the question is in the transcript."""

    interview_id: UUID
    question: str
    status: InterviewStatus
    model: str
    usage: UsageResponse
