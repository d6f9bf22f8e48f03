"""A requirements interview: an AI interviewer asks, the project's owner answers, until the
requirements are covered.

Rules:

* one question at a time: a question is asked only when none is waiting for its answer,
  and an answer is taken only when a question waits for one;
* statuses only move forward: ``pending`` → ``in_progress`` (the first question) →
  ``completed`` (the model judged the requirements covered, or the owner asked to finish)
  or ``cancelled``; a completed or cancelled interview takes no further change (409);
* what a model wrote is kept only if the transcript it was written from is still the
  transcript (``based_on``: its length then): of two racing writers one wins, the other
  gets a 409 and changes nothing;
* at most ``max_questions`` questions (the setting ``interview.max_questions``): the
  answer to the last one completes the interview, whatever the model judged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal
from uuid import UUID

from orchestrator.domain.events import DomainEvent
from shared.kernel.aggregate import Aggregate
from shared.kernel.ai import Usage
from shared.kernel.errors import Conflict

InterviewStatus = Literal["pending", "in_progress", "completed", "cancelled"]
Speaker = Literal["assistant", "user"]
FinishedBy = Literal["model", "user"]

MAX_QUESTIONS: Final = 12
"""Questions per interview when no setting says otherwise (``interview.max_questions``'s default)."""
MAX_QUESTION_CHARS: Final = 2_000
MAX_ANSWER_CHARS: Final = 4_000
MAX_TOPIC_CHARS: Final = 500
MAX_GOAL_CHARS: Final = 2_000
_FINAL: Final = ("completed", "cancelled")


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationMessage:
    role: Speaker
    content: str
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """What the model judged from the transcript (or wrote when the owner asked to finish)."""

    covered_areas: tuple[str, ...]
    open_questions: tuple[str, ...]
    summary: str
    complete: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class InterviewEvent(DomainEvent):
    interview_id: UUID
    project_id: UUID
    owner_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class InterviewCreated(InterviewEvent):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class InterviewCancelled(InterviewEvent):
    questions: int
    answers: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InterviewDeleted(InterviewEvent):
    status: InterviewStatus
    """What it was when deleted."""


@dataclass(frozen=True, slots=True, kw_only=True)
class InterviewCompleted(DomainEvent):
    interview_id: UUID
    project_id: UUID
    owner_id: UUID
    finished_by: FinishedBy
    questions: int
    answers: int
    covered_areas: int
    open_questions: int


@dataclass(slots=True, kw_only=True)
class Interview(Aggregate[DomainEvent]):
    id: UUID
    project_id: UUID
    owner_id: UUID
    topic: str = ""
    goal: str = ""
    status: InterviewStatus = "pending"
    transcript: list[ConversationMessage] = field(default_factory=list)
    assessment: Assessment | None = None
    model: str | None = None
    """The model that wrote the latest question or assessment."""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    events: list[DomainEvent] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def start(
        cls, *, id: UUID, project_id: UUID, owner_id: UUID, topic: str, goal: str, now: datetime
    ) -> Interview:
        """A pending interview, announced."""
        interview = cls(
            id=id,
            project_id=project_id,
            owner_id=owner_id,
            topic=topic,
            goal=goal,
            created_at=now,
            updated_at=now,
        )
        interview.record(
            InterviewCreated(occurred_at=now, interview_id=id, project_id=project_id, owner_id=owner_id)
        )
        return interview

    @property
    def is_final(self) -> bool:
        return self.status in _FINAL

    @property
    def question_pending(self) -> bool:
        return bool(self.transcript) and self.transcript[-1].role == "assistant"

    @property
    def questions(self) -> int:
        return sum(1 for m in self.transcript if m.role == "assistant")

    @property
    def answers(self) -> int:
        return sum(1 for m in self.transcript if m.role == "user")

    def ensure_open(self) -> None:
        if self.is_final:
            raise Conflict(f"interview {self.id} is {self.status}: it takes no further change")

    def ensure_can_ask(self, max_questions: int = MAX_QUESTIONS) -> None:
        """Raises Conflict: final, a question already waits for its answer, or the cap is reached."""
        self.ensure_open()
        if self.question_pending:
            raise Conflict(f"interview {self.id} has a question waiting for its answer: answer it first")
        if self.questions >= max_questions:
            raise Conflict(f"interview {self.id} has asked its {max_questions} questions: finish it")

    def ensure_can_answer(self) -> None:
        self.ensure_open()
        if not self.question_pending:
            raise Conflict(f"interview {self.id} has no question waiting for an answer: ask one first")

    def ensure_can_finish(self) -> None:
        self.ensure_open()
        if self.answers == 0:
            raise Conflict(f"interview {self.id} has no answer yet: answer a question before finishing")

    def describe(self, *, topic: str | None, goal: str | None, now: datetime) -> None:
        """Changes what it is about (``None`` keeps a field); only while it is open."""
        self.ensure_open()
        if topic is not None:
            self.topic = topic
        if goal is not None:
            self.goal = goal
        self.updated_at = now

    def ask(
        self,
        question: str,
        *,
        based_on: int,
        model: str,
        usage: Usage,
        now: datetime,
        max_questions: int = MAX_QUESTIONS,
    ) -> None:
        """Appends the interviewer's question, written from the first ``based_on`` messages."""
        self.ensure_can_ask(max_questions)
        self._check_unchanged(based_on)
        self.transcript.append(
            ConversationMessage(role="assistant", content=question[:MAX_QUESTION_CHARS], created_at=now)
        )
        if self.status == "pending":
            self.status = "in_progress"
        self._used(model, usage, now)

    def answer(self, text: str, now: datetime) -> None:
        self.ensure_can_answer()
        self.transcript.append(ConversationMessage(role="user", content=text, created_at=now))
        self.updated_at = now

    def assess(
        self,
        assessment: Assessment,
        *,
        based_on: int,
        model: str,
        usage: Usage,
        now: datetime,
        max_questions: int = MAX_QUESTIONS,
    ) -> None:
        """Keeps the model's judgement of the first ``based_on`` messages; completes when it says
        so, or when the last question allowed has its answer."""
        self.ensure_open()
        self._check_unchanged(based_on)
        self.assessment = assessment
        self._used(model, usage, now)
        if assessment.complete or (self.questions >= max_questions and not self.question_pending):
            self._complete("model", now)

    def finish(
        self, assessment: Assessment, *, based_on: int, model: str, usage: Usage, now: datetime
    ) -> None:
        """The owner asked to finish: the assessment written from the transcript, and it completes."""
        self.ensure_can_finish()
        self._check_unchanged(based_on)
        self.assessment = assessment
        self._used(model, usage, now)
        self._complete("user", now)

    def cancel(self, now: datetime) -> None:
        self.ensure_open()
        self.status = "cancelled"
        self.updated_at = now
        self.record(
            InterviewCancelled(
                occurred_at=now,
                interview_id=self.id,
                project_id=self.project_id,
                owner_id=self.owner_id,
                questions=self.questions,
                answers=self.answers,
            )
        )

    def delete(self, now: datetime) -> None:
        """Whatever its status: deleting is not a change of the interview, it is its end."""
        self.record(
            InterviewDeleted(
                occurred_at=now,
                interview_id=self.id,
                project_id=self.project_id,
                owner_id=self.owner_id,
                status=self.status,
            )
        )

    def _check_unchanged(self, based_on: int) -> None:
        if len(self.transcript) != based_on:
            raise Conflict(f"interview {self.id} changed while the model was writing: reload it and retry")

    def _used(self, model: str, usage: Usage, now: datetime) -> None:
        self.model = model
        self.prompt_tokens += usage.prompt_tokens
        self.completion_tokens += usage.completion_tokens
        self.updated_at = now

    def _complete(self, by: FinishedBy, now: datetime) -> None:
        self.status, self.completed_at, self.updated_at = "completed", now, now
        assessment = self.assessment
        self.record(
            InterviewCompleted(
                occurred_at=now,
                interview_id=self.id,
                project_id=self.project_id,
                owner_id=self.owner_id,
                finished_by=by,
                questions=self.questions,
                answers=self.answers,
                covered_areas=len(assessment.covered_areas) if assessment else 0,
                open_questions=len(assessment.open_questions) if assessment else 0,
            )
        )
