"""Interviews: create, read, list, delete, cancel; the streamed question, the answer judged by
the model, and finishing on the owner's word.

No transaction is open while a model writes: a use case reads what it needs in one short
transaction, calls the model with none open, then writes the result in another, which keeps
it only if the transcript is still the one the model read (``Interview`` checks
``based_on``). So a model failure, a client that goes away mid-stream, or a concurrent
writer leaves the interview as it was. Every route goes through the owner of the
interview's project: another owner's interview is "not found".
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from uuid import UUID

from orchestrator.application import interviewer
from orchestrator.application.ports import ModelCatalog, ResolvedModel, UnitOfWork
from orchestrator.application.projects import owned_project
from orchestrator.domain.interviews import MAX_QUESTIONS, Interview
from shared.kernel.ai import ChatRequest, ModelError, Usage
from shared.kernel.clock import Clock, SystemClock
from shared.kernel.errors import NotFound
from shared.kernel.ids import new_id
from shared.kernel.pagination import Page, clamp_limit, decode_cursor, page_from_rows

SYSTEM_CLOCK: Clock = SystemClock()
MAX_QUESTIONS_SETTING = "interview.max_questions"


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateInterview:
    owner_id: UUID
    project_id: UUID
    topic: str = ""
    goal: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionChunk:
    """A piece of the question as the model writes it."""

    delta: str


@dataclass(frozen=True, slots=True, kw_only=True)
class QuestionAsked:
    """The whole question, now in the transcript."""

    question: str
    usage: Usage
    model: str
    interview: Interview


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedQuestion:
    """What asking needs, read before the stream starts (so refusals are plain problems)."""

    interview_id: UUID
    owner_id: UUID
    based_on: int
    max_questions: int
    model: ResolvedModel
    request: ChatRequest


async def owned_interview(
    uow: UnitOfWork, interview_id: UUID, owner_id: UUID, *, for_update: bool = False, writable: bool = False
) -> Interview:
    """Raises NotFound (not the owner's, or none), Conflict (``writable`` and the project is archived)."""
    interview = await uow.interviews.get(interview_id, owner_id, for_update=for_update)
    if interview is None:
        raise NotFound(f"interview {interview_id} not found")
    if writable:
        (await owned_project(uow, interview.project_id, owner_id)).ensure_writable()
    return interview


async def max_questions(uow: UnitOfWork) -> int:
    """The setting ``interview.max_questions`` (its registry default when unset)."""
    value = (await uow.settings.get()).value(MAX_QUESTIONS_SETTING)
    return value if isinstance(value, int) and not isinstance(value, bool) else MAX_QUESTIONS


async def _intro(uow: UnitOfWork, interview: Interview) -> str:
    project = await owned_project(uow, interview.project_id, interview.owner_id)
    project.ensure_writable()
    return interviewer.opening(project.name, project.description, interview)


async def create_interview(
    cmd: CreateInterview, uow: UnitOfWork, *, clock: Clock = SYSTEM_CLOCK
) -> Interview:
    """A pending interview of the caller's project (404 otherwise; 409 if it is archived)."""
    async with uow:
        project = await owned_project(uow, cmd.project_id, cmd.owner_id)
        project.ensure_writable()
        interview = Interview.start(
            id=new_id(),
            project_id=project.id,
            owner_id=cmd.owner_id,
            topic=cmd.topic,
            goal=cmd.goal,
            now=clock.now(),
        )
        await uow.interviews.add(interview)
        await uow.commit()
    return interview


async def read_interview(interview_id: UUID, owner_id: UUID, uow: UnitOfWork) -> Interview:
    async with uow:
        return await owned_interview(uow, interview_id, owner_id)


async def list_interviews(
    project_id: UUID, owner_id: UUID, uow: UnitOfWork, *, cursor: str | None, limit: int | None
) -> Page[Interview]:
    """The project's interviews, newest first, one page at a time."""
    size = clamp_limit(limit)
    before = decode_cursor(cursor, UUID) if cursor else None
    async with uow:
        await owned_project(uow, project_id, owner_id)
        rows = await uow.interviews.list(project_id, before_id=before, limit=size + 1)
    return page_from_rows(rows, size, key=lambda i: i.id)


async def describe_interview(
    interview_id: UUID,
    owner_id: UUID,
    uow: UnitOfWork,
    *,
    topic: str | None,
    goal: str | None,
    clock: Clock = SYSTEM_CLOCK,
) -> Interview:
    """Changes the topic and/or the goal the next questions start from (409 once it is final)."""
    async with uow:
        interview = await owned_interview(uow, interview_id, owner_id, for_update=True, writable=True)
        interview.describe(topic=topic, goal=goal, now=clock.now())
        await uow.interviews.update(interview)
        await uow.commit()
    return interview


async def delete_interview(
    interview_id: UUID, owner_id: UUID, uow: UnitOfWork, *, clock: Clock = SYSTEM_CLOCK
) -> None:
    """Deletes it whatever its status; prompts generated from it keep their text."""
    async with uow:
        interview = await owned_interview(uow, interview_id, owner_id, for_update=True, writable=True)
        interview.delete(clock.now())
        await uow.interviews.delete(interview.id)
        await uow.commit()


async def cancel_interview(
    interview_id: UUID, owner_id: UUID, uow: UnitOfWork, *, clock: Clock = SYSTEM_CLOCK
) -> Interview:
    """Cancelled is final (409 for a completed or cancelled one)."""
    async with uow:
        interview = await owned_interview(uow, interview_id, owner_id, for_update=True, writable=True)
        interview.cancel(clock.now())
        await uow.interviews.update(interview)
        await uow.commit()
    return interview


async def prepare_question(
    interview_id: UUID, owner_id: UUID, uow: UnitOfWork, *, models: ModelCatalog
) -> PreparedQuestion:
    """Checks a question may be asked now (409: final, a question waits, or the cap is reached)
    and builds the model's request from the transcript."""
    async with uow:
        interview = await owned_interview(uow, interview_id, owner_id)
        limit = await max_questions(uow)
        interview.ensure_can_ask(limit)
        intro = await _intro(uow, interview)
    model = await models.resolve()
    return PreparedQuestion(
        interview_id=interview.id,
        owner_id=owner_id,
        based_on=len(interview.transcript),
        max_questions=limit,
        model=model,
        request=interviewer.question_request(model, intro, interview.transcript, interview.assessment),
    )


async def stream_question(
    prepared: PreparedQuestion, uow: UnitOfWork, *, clock: Clock = SYSTEM_CLOCK
) -> AsyncGenerator[QuestionChunk | QuestionAsked, None]:
    """The question as the model writes it, then :class:`QuestionAsked` once it is in the transcript.

    Nothing is written until the model has finished; closing the iterator before (a client
    that went away) writes nothing.

    Raises (while iterating): ModelError; Conflict if the interview changed meanwhile.
    """
    parts: list[str] = []
    usage = Usage()
    async for chunk in prepared.model.model.stream(prepared.request):
        if chunk.delta:
            parts.append(chunk.delta)
            yield QuestionChunk(delta=chunk.delta)
        if chunk.usage is not None:
            usage = chunk.usage
    # PostgreSQL text holds no NUL, and a model's text could carry one
    question = "".join(parts).replace("\x00", "").strip()
    if not question:
        raise ModelError("the model wrote no question")
    async with uow:
        interview = await owned_interview(uow, prepared.interview_id, prepared.owner_id, for_update=True)
        interview.ask(
            question,
            based_on=prepared.based_on,
            model=prepared.model.name,
            usage=usage,
            now=clock.now(),
            max_questions=prepared.max_questions,
        )
        await uow.interviews.update(interview)
        await uow.commit()
    yield QuestionAsked(
        question=interview.transcript[-1].content, usage=usage, model=prepared.model.name, interview=interview
    )


async def answer_question(
    interview_id: UUID,
    owner_id: UUID,
    answer: str,
    uow: UnitOfWork,
    *,
    models: ModelCatalog,
    clock: Clock = SYSTEM_CLOCK,
) -> Interview:
    """Appends the owner's answer to the waiting question (409 if none waits) and keeps the
    model's judgement of the whole transcript. When the model says the requirements are
    covered, or this answered the last question allowed (``interview.max_questions``), the
    interview completes (event ``orchestrator.interview.completed``). A model failure (502,
    503, 504) keeps nothing, the answer included: the owner sends it again."""
    async with uow:
        interview = await owned_interview(uow, interview_id, owner_id)
        interview.ensure_can_answer()
        intro = await _intro(uow, interview)
        limit = await max_questions(uow)
    based_on = len(interview.transcript)
    interview.answer(answer, clock.now())  # on this copy only: what the model judges
    model = await models.resolve()
    request = interviewer.assessment_request(model, intro, interview.transcript, finishing=False)
    assessment, usage = await interviewer.structured(model, request, interviewer.parse_assessment)
    async with uow:
        interview = await owned_interview(uow, interview_id, owner_id, for_update=True)
        now = clock.now()
        interview.answer(answer, now)
        interview.assess(
            assessment, based_on=based_on + 1, model=model.name, usage=usage, now=now, max_questions=limit
        )
        await uow.interviews.update(interview)
        await uow.commit()
    return interview


async def finish_interview(
    interview_id: UUID, owner_id: UUID, uow: UnitOfWork, *, models: ModelCatalog, clock: Clock = SYSTEM_CLOCK
) -> Interview:
    """The owner ends it: the model writes the assessment from the transcript and it completes
    (409 if it is final or has no answer yet; a model failure changes nothing)."""
    async with uow:
        interview = await owned_interview(uow, interview_id, owner_id)
        interview.ensure_can_finish()
        intro = await _intro(uow, interview)
    based_on = len(interview.transcript)
    model = await models.resolve()
    request = interviewer.assessment_request(model, intro, interview.transcript, finishing=True)
    assessment, usage = await interviewer.structured(model, request, interviewer.parse_assessment)
    async with uow:
        interview = await owned_interview(uow, interview_id, owner_id, for_update=True)
        interview.finish(assessment, based_on=based_on, model=model.name, usage=usage, now=clock.now())
        await uow.interviews.update(interview)
        await uow.commit()
    return interview
