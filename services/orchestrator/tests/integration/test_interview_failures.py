"""Model failures and clients that leave: a clear 502/503/504 problem (or an SSE ``error``
event once streaming) and nothing changed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from services.orchestrator.tests.integration.interview_steps import (
    answer,
    ask,
    completed_interview,
    new_interview,
    new_project,
    sse_events,
)

from orchestrator.adapters.messaging.translators import to_contract
from orchestrator.adapters.postgres.unit_of_work import SqlAlchemyUnitOfWork
from orchestrator.application import interviews as use_cases
from orchestrator.application.ports import ResolvedModel
from orchestrator.entrypoints.http.dependencies import MODELS
from shared.kernel.ai import (
    ChatChunk,
    ChatCompletion,
    ChatRequest,
    ModelError,
    ModelRateLimited,
    ModelTimeout,
    ModelUnavailable,
    Usage,
)
from shared.messaging.outbox import OutboxWriter

pytestmark = pytest.mark.asyncio


class BrokenModel:
    """Streams ``chunks`` pieces, then fails with ``error``; ``complete`` fails at once."""

    def __init__(self, error: ModelError, chunks: int = 0) -> None:
        self.error = error
        self.chunks = chunks

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        for n in range(self.chunks):
            yield ChatChunk(delta=f"word{n} ")
        raise self.error

    async def complete(self, request: ChatRequest) -> ChatCompletion:
        raise self.error


class SlowModel:
    """A long question, one word every few milliseconds."""

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        for n in range(200):
            await asyncio.sleep(0.005)
            yield ChatChunk(delta=f"word{n} ")
        yield ChatChunk(delta="?", finish_reason="stop", usage=Usage(prompt_tokens=1, completion_tokens=201))

    async def complete(self, request: ChatRequest) -> ChatCompletion:
        raise NotImplementedError


class SilentModel:
    """Answers only whitespace."""

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        yield ChatChunk(delta="  \n", finish_reason="stop", usage=Usage(prompt_tokens=1, completion_tokens=1))

    async def complete(self, request: ChatRequest) -> ChatCompletion:
        raise NotImplementedError


class Catalog:
    def __init__(self, model) -> None:
        self.model = model

    async def resolve(self, model_id=None) -> ResolvedModel:
        return ResolvedModel(id=None, name="test-model", provider="openai", model=self.model)


def use_model(api, model) -> None:
    api.app.state[MODELS] = Catalog(model)


ERRORS = [
    (ModelTimeout("no first token within 30 s"), 504),
    (ModelUnavailable("the provider answered 503"), 503),
    (ModelRateLimited("slow down", retry_after_s=7), 503),
    (ModelError("the provider refused the request"), 502),
]


@pytest.mark.parametrize(("error", "status"), ERRORS, ids=[type(e).__name__ for e, _ in ERRORS])
async def test_a_model_failure_on_an_answer_is_a_problem_and_keeps_nothing(api, caller, error, status):
    alice = caller()
    interview = await new_interview(api, alice, await new_project(api, alice))
    await ask(api, alice, interview["id"])
    before = (await api.get(f"/api/v1/interviews/{interview['id']}", headers=alice.headers)).json()
    use_model(api, BrokenModel(error))

    refused = await answer(api, alice, interview["id"], "Makers.")

    assert refused.status_code == status
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == error.detail
    after = (await api.get(f"/api/v1/interviews/{interview['id']}", headers=alice.headers)).json()
    assert after == before


@pytest.mark.parametrize(("error", "status"), ERRORS, ids=[type(e).__name__ for e, _ in ERRORS])
async def test_a_model_that_fails_before_its_first_word_is_a_problem_not_a_stream(api, caller, error, status):
    alice = caller()
    interview = await new_interview(api, alice, await new_project(api, alice))
    use_model(api, BrokenModel(error))

    refused = await api.post(f"/api/v1/interviews/{interview['id']}/questions", headers=alice.headers)

    assert refused.status_code == status
    assert refused.headers["content-type"] == "application/problem+json"
    if isinstance(error, ModelRateLimited):
        assert refused.headers["retry-after"] == "7"
    after = (await api.get(f"/api/v1/interviews/{interview['id']}", headers=alice.headers)).json()
    assert (after["status"], after["transcript"]) == ("pending", [])


async def test_a_model_failure_mid_stream_is_an_error_event_and_no_question_is_kept(api, caller):
    alice = caller()
    interview = await new_interview(api, alice, await new_project(api, alice))
    use_model(api, BrokenModel(ModelUnavailable("connection reset"), chunks=3))

    events = await ask(api, alice, interview["id"])

    assert [name for name, _ in events] == ["chunk", "chunk", "chunk", "error"]
    problem = json.loads(events[-1][1])
    assert (problem["status"], problem["detail"]) == (503, "connection reset")
    after = (await api.get(f"/api/v1/interviews/{interview['id']}", headers=alice.headers)).json()
    assert (after["status"], after["transcript"]) == ("pending", [])


async def test_finishing_and_generating_fail_cleanly_when_the_model_does(api, caller):
    alice = caller()
    project_id = await new_project(api, alice)
    done = (await completed_interview(api, alice, project_id))["interview"]
    open_one = await new_interview(api, alice, project_id)
    await ask(api, alice, open_one["id"])
    await answer(api, alice, open_one["id"], "Makers.")
    use_model(api, BrokenModel(ModelTimeout("too slow")))

    finish = await api.post(f"/api/v1/interviews/{open_one['id']}/finish", headers=alice.headers)
    generate = await api.post(
        f"/api/v1/projects/{project_id}/prompts/generate",
        json={"interview_id": done["id"]},
        headers=alice.headers,
    )

    assert (finish.status_code, generate.status_code) == (504, 504)
    still = (await api.get(f"/api/v1/interviews/{open_one['id']}", headers=alice.headers)).json()
    assert still["status"] == "in_progress"
    prompts = (await api.get(f"/api/v1/projects/{project_id}/prompts", headers=alice.headers)).json()
    assert prompts["items"] == []


async def test_a_question_stream_closed_early_writes_nothing_and_the_next_ask_works(
    api, caller, service_engine
):
    alice = caller()
    interview = await new_interview(api, alice, await new_project(api, alice))
    outbox = OutboxWriter("/aiorch/orchestrator")

    def uow():
        return SqlAlchemyUnitOfWork.from_engine(service_engine, outbox, to_contract)

    prepared = await use_cases.prepare_question(
        interview["id"], alice.user_id, uow(), models=Catalog(SlowModel())
    )
    stream = use_cases.stream_question(prepared, uow())
    first = await anext(stream)
    # Litestar cancels a streamed response on http.disconnect, which closes this iterator; the
    # test client reads a stream whole, so the close is made here
    await stream.aclose()

    assert isinstance(first, use_cases.QuestionChunk)
    after = (await api.get(f"/api/v1/interviews/{interview['id']}", headers=alice.headers)).json()
    assert (after["status"], after["transcript"]) == ("pending", [])
    events = await ask(api, alice, interview["id"])
    assert events[-1][0] == "done"


async def test_a_model_that_writes_no_question_is_an_error_event_and_nothing_is_kept(api, caller):
    alice = caller()
    interview = await new_interview(api, alice, await new_project(api, alice))
    use_model(api, SilentModel())

    events = await ask(api, alice, interview["id"])

    assert events[-1][0] == "error"
    assert json.loads(events[-1][1])["status"] == 502
    after = (await api.get(f"/api/v1/interviews/{interview['id']}", headers=alice.headers)).json()
    assert after["transcript"] == []


async def test_sse_events_reads_every_message():
    assert sse_events("event: chunk\ndata: {}\n\nevent: done\ndata: 1\n\n") == [
        ("chunk", "{}"),
        ("done", "1"),
    ]
