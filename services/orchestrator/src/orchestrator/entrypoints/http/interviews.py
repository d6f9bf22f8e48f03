"""``/interviews`` and ``/projects/{id}/interviews``: requirement interviews.

The next question is streamed as server-sent events (``POST /interviews/{id}/questions``):
``chunk`` events with the text as the model writes it, then ``done`` once the question is in
the transcript, or ``error`` with a problem. Refusals known before the model is called (404,
409) are ordinary problem responses. Another user's interview is a 404 on every route.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Final
from uuid import UUID

import msgspec
import structlog
from litestar import Controller, Request, delete, get, patch, post
from litestar.params import JSONBody, PathParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from orchestrator.application import interviews as use_cases
from orchestrator.entrypoints.http.dependencies import ModelsDep, UnitOfWorkDep
from orchestrator.entrypoints.http.interview_schemas import (
    AnswerCreate,
    AnswerResponse,
    InterviewCreate,
    InterviewResponse,
    InterviewUpdate,
    QuestionChunkData,
    QuestionDoneData,
    UsageResponse,
)
from orchestrator.entrypoints.http.openapi import problems
from orchestrator.entrypoints.http.parameters import Cursor, Limit, ProjectId
from shared.auth import BEARER_SECURITY, CurrentPrincipal
from shared.http.problems import Problem, handle_domain, handle_model_error, problem_response
from shared.kernel.ai import ModelError
from shared.kernel.errors import DomainError
from shared.kernel.pagination import Page

InterviewId = Annotated[UUID, PathParameter(description="One of my interviews, by its `id`.")]
STREAM_HEADERS: Final = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}
_encoder = msgspec.json.Encoder()
_log = structlog.get_logger("orchestrator.interviews")


class ProjectInterviewsController(Controller):
    path = "/api/v1/projects/{project_id:uuid}/interviews"
    tags = ["interviews"]
    security = BEARER_SECURITY

    @post(
        "/",
        operation_id="create_interview",
        summary="Start a requirements interview",
        responses=problems(400, 401, 404, 409, 413),
    )
    async def create_interview(
        self,
        project_id: ProjectId,
        data: JSONBody[InterviewCreate],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
    ) -> InterviewResponse:
        """A new, pending interview of my project, optionally about a topic and a goal; ask its
        first question with `POST /interviews/{id}/questions`. 409 if the project is archived."""
        command = use_cases.CreateInterview(
            owner_id=principal.user_id, project_id=project_id, topic=data.topic, goal=data.goal
        )
        return InterviewResponse.of(await use_cases.create_interview(command, uow))

    @get(
        "/",
        operation_id="list_interviews",
        summary="A project's interviews",
        responses=problems(400, 401, 404),
    )
    async def list_interviews(
        self,
        project_id: ProjectId,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[InterviewResponse]:
        """My project's interviews, newest first, with their transcripts: one page, with the
        cursor of the next (`null` on the last)."""
        page = await use_cases.list_interviews(project_id, principal.user_id, uow, cursor=cursor, limit=limit)
        return page.map(InterviewResponse.of)


def _event(item: use_cases.QuestionChunk | use_cases.QuestionAsked) -> ServerSentEventMessage:
    if isinstance(item, use_cases.QuestionChunk):
        return ServerSentEventMessage(
            event="chunk", data=_encoder.encode(QuestionChunkData(delta=item.delta)).decode()
        )
    done = QuestionDoneData(
        interview_id=item.interview.id,
        question=item.question,
        status=item.interview.status,
        model=item.model,
        usage=UsageResponse.of(item.usage),
    )
    return ServerSentEventMessage(event="done", data=_encoder.encode(done).decode())


def _problem_event(request: Request[Any, Any, Any], exc: Exception) -> ServerSentEventMessage:
    if isinstance(exc, ModelError):
        response = handle_model_error(request, exc)
    elif isinstance(exc, DomainError):
        response = handle_domain(request, exc)
    else:
        _log.exception("question stream failed", error_type=type(exc).__name__)
        response = problem_response(request, 500, "An unexpected error occurred.")
    problem: Problem = response.content
    return ServerSentEventMessage(event="error", data=_encoder.encode(problem).decode())


class InterviewsController(Controller):
    path = "/api/v1/interviews/{interview_id:uuid}"
    tags = ["interviews"]
    security = BEARER_SECURITY

    @get("/", operation_id="get_interview", summary="An interview", responses=problems(400, 401, 404))
    async def get_interview(
        self, interview_id: InterviewId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> InterviewResponse:
        """The interview with its transcript, its latest assessment and the tokens it used."""
        return InterviewResponse.of(await use_cases.read_interview(interview_id, principal.user_id, uow))

    @patch(
        "/",
        operation_id="update_interview",
        summary="Change an interview's topic or goal",
        responses=problems(400, 401, 404, 409, 413),
    )
    async def update_interview(
        self,
        interview_id: InterviewId,
        data: JSONBody[InterviewUpdate],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
    ) -> InterviewResponse:
        """Changes the topic and/or the goal (absent fields stay); the next questions start from
        them. 409 once the interview is completed or cancelled, or the project is archived."""
        interview = await use_cases.describe_interview(
            interview_id, principal.user_id, uow, topic=data.topic, goal=data.goal
        )
        return InterviewResponse.of(interview)

    @delete(
        "/",
        operation_id="delete_interview",
        summary="Delete an interview",
        responses=problems(400, 401, 404, 409),
    )
    async def delete_interview(
        self, interview_id: InterviewId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> None:
        """Deletes the interview whatever its status; prompts generated from it stay. 409 if the
        project is archived."""
        await use_cases.delete_interview(interview_id, principal.user_id, uow)

    @post(
        "/questions",
        operation_id="ask_interview_question",
        summary="Ask the next question (streamed)",
        responses=problems(400, 401, 404, 409, 502, 503, 504),
        status_code=200,
        media_type="text/event-stream",
        response_description=(
            'Server-sent events: `chunk` (`{"delta"}`) as the model writes, then `done` '
            '(`{"interview_id", "question", "status", "model", "usage"}`) or `error` (a problem).'
        ),
    )
    async def ask_question(
        self,
        request: Request[Any, Any, Any],
        interview_id: InterviewId,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        models: ModelsDep,
    ) -> ServerSentEvent:
        """The AI interviewer's next question, from the transcript so far, as a
        `text/event-stream`: `chunk` events (`{"delta": ...}`) as the model writes, then `done`
        (`{"question", "status", "model", "usage"}`) once the question is in the transcript. A
        model that fails before its first word is a 502, 503 or 504 problem; once streaming, a
        failure is an `error` event with a problem (model: 502, 503, 504; a concurrent change:
        409). Either way nothing is written, and a client that leaves mid-stream leaves the
        transcript as it was. Refused with 409 when the interview is completed or cancelled, a
        question waits for its answer, or the question limit is reached. The first question
        moves it from `pending` to `in_progress`."""
        prepared = await use_cases.prepare_question(interview_id, principal.user_id, uow, models=models)
        items = use_cases.stream_question(prepared, uow)
        # awaited before the response starts: a model that cannot even begin (unreachable, rate
        # limited, timed out) is an ordinary problem response with its status
        first = await anext(items)

        async def messages() -> AsyncIterator[ServerSentEventMessage]:
            try:
                yield _event(first)
                async for item in items:
                    yield _event(item)
            except Exception as exc:  # the stream has begun: a failure can only be an `error` event
                yield _problem_event(request, exc)
            finally:
                await items.aclose()

        return ServerSentEvent(messages(), headers=STREAM_HEADERS)

    @post(
        "/answers",
        operation_id="answer_interview_question",
        summary="Answer the waiting question",
        responses=problems(400, 401, 404, 409, 413, 502, 503, 504),
        status_code=200,
    )
    async def answer(
        self,
        interview_id: InterviewId,
        data: JSONBody[AnswerCreate],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        models: ModelsDep,
    ) -> AnswerResponse:
        """Adds my answer to the waiting question (409 if none waits, or the interview is final);
        the AI model then judges the whole transcript (covered areas, open questions, summary).
        When it judges the requirements covered, the interview completes (`completed: true`,
        event `orchestrator.interview.completed`). A model failure is a 502, 503 or 504 and
        keeps nothing, the answer included: send it again."""
        interview = await use_cases.answer_question(
            interview_id, principal.user_id, data.content, uow, models=models
        )
        return AnswerResponse(
            completed=interview.status == "completed", interview=InterviewResponse.of(interview)
        )

    @post(
        "/finish",
        operation_id="finish_interview",
        summary="Finish an interview now",
        responses=problems(400, 401, 404, 409, 502, 503, 504),
        status_code=200,
    )
    async def finish(
        self, interview_id: InterviewId, principal: CurrentPrincipal, uow: UnitOfWorkDep, models: ModelsDep
    ) -> InterviewResponse:
        """Ends the interview on my word: the AI model writes the assessment from the transcript
        and it completes (event `orchestrator.interview.completed`). 409 if it is final or has no
        answer yet; a model failure is a 502, 503 or 504 and changes nothing."""
        return InterviewResponse.of(
            await use_cases.finish_interview(interview_id, principal.user_id, uow, models=models)
        )

    @post(
        "/cancel",
        operation_id="cancel_interview",
        summary="Cancel an interview",
        responses=problems(400, 401, 404, 409),
        status_code=200,
    )
    async def cancel(
        self, interview_id: InterviewId, principal: CurrentPrincipal, uow: UnitOfWorkDep
    ) -> InterviewResponse:
        """Cancels the interview: final, it takes no further question or answer (409 if it is
        already completed or cancelled)."""
        return InterviewResponse.of(await use_cases.cancel_interview(interview_id, principal.user_id, uow))
