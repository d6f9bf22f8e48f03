"""Every operation that calls a model, against every way a model fails: a timeout is a 504, an
unavailable or rate-limited provider a 503 (with ``Retry-After`` when it said), a refusal or an
answer that stays invalid after the retry a 502 — each a problem+json — and nothing changes:
no row of any table and no event in the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import sqlalchemy as sa
from services.orchestrator.tests.integration.interview_steps import (
    answer,
    ask,
    completed_interview,
    new_interview,
    new_project,
)

from orchestrator.adapters.postgres import tables
from orchestrator.application.ports import ResolvedModel
from orchestrator.entrypoints.http.dependencies import MODELS
from shared.kernel.ai import (
    ChatChunk,
    ChatCompletion,
    ChatRequest,
    ModelAuthenticationFailed,
    ModelError,
    ModelRateLimited,
    ModelTimeout,
    ModelUnavailable,
    Usage,
    gather,
)
from shared.messaging.outbox_schema import outbox

pytestmark = pytest.mark.asyncio


class FailingModel:
    """Fails with ``error`` before its first token, or (``error=None``) answers ``text`` every time."""

    def __init__(self, error: ModelError | None, text: str = "") -> None:
        self.error, self.text, self.calls = error, text, 0

    async def stream(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        self.calls += 1
        if self.error is not None:
            raise self.error
        yield ChatChunk(
            delta=self.text, finish_reason="stop", usage=Usage(prompt_tokens=3, completion_tokens=3)
        )

    async def complete(self, request: ChatRequest) -> ChatCompletion:
        return await gather(self.stream(request))


class OneModel:
    def __init__(self, model: FailingModel) -> None:
        self.model = model

    async def resolve(self, model_id=None) -> ResolvedModel:  # type: ignore[no-untyped-def]
        return ResolvedModel(id=None, name="broken", provider="openai", model=self.model)


FAILURES = {
    "timeout": (ModelTimeout("no first token within 30 s"), "", 504),
    "rate limited": (ModelRateLimited("slow down", retry_after_s=7), "", 503),
    "unavailable": (ModelUnavailable("upstream answered 502"), "", 503),
    "refused key": (ModelAuthenticationFailed("invalid api key"), "", 502),
    "invalid output": (None, "this is not the JSON the schema asked for", 502),
}

Call = Callable[..., Awaitable[object]]


async def snapshot(engine) -> dict[str, int]:
    async with engine.connect() as conn:
        counts = {}
        for table in [*tables.metadata.sorted_tables, outbox]:
            counts[table.name] = (
                await conn.execute(sa.select(sa.func.count()).select_from(table))
            ).scalar_one()
        versions = await conn.execute(sa.select(tables.tasks.c.id, tables.tasks.c.version))
        counts["task versions"] = hash(tuple(sorted(versions.all())))
        return counts


async def world(api, who) -> dict[str, str]:
    """A project with an interview half-way (a question pending), a completed one, a prompt, a task."""
    project_id = await new_project(api, who)
    done = (await completed_interview(api, who, project_id))["interview"]
    prompt = await api.post(
        f"/api/v1/projects/{project_id}/prompts/generate",
        json={"interview_id": done["id"]},
        headers=who.headers,
    )
    task = await api.post(f"/api/v1/projects/{project_id}/tasks", json={"title": "cart"}, headers=who.headers)
    open_one = await new_interview(api, who, project_id, topic="a second feature")
    await ask(api, who, open_one["id"])
    assert (await answer(api, who, open_one["id"], "first answer")).status_code == 200
    pending = await new_interview(api, who, project_id, topic="a third feature")
    await ask(api, who, pending["id"])
    return {
        "project": project_id,
        "done": done["id"],
        "open": open_one["id"],
        "pending": pending["id"],
        "prompt": prompt.json()["id"],
        "task": task.json()["id"],
    }


def calls(ids: dict[str, str]) -> dict[str, tuple[str, str, dict[str, object] | None]]:
    project = ids["project"]
    return {
        "ask a question": ("POST", f"/api/v1/interviews/{ids['open']}/questions", None),
        "answer (assessment)": (
            "POST",
            f"/api/v1/interviews/{ids['pending']}/answers",
            {"content": "an answer"},
        ),
        "finish (assessment)": ("POST", f"/api/v1/interviews/{ids['open']}/finish", None),
        "generate a prompt": (
            "POST",
            f"/api/v1/projects/{project}/prompts/generate",
            {"interview_id": ids["done"]},
        ),
        "generate tasks": (
            "POST",
            f"/api/v1/projects/{project}/tasks/generate",
            {"prompt_id": ids["prompt"], "num_tasks": 3, "mode": "append"},
        ),
        "generate a commit message": (
            "POST",
            "/api/v1/commits/generate",
            {"task_id": ids["task"], "diff_summary": "cart.py: +12 -1"},
        ),
    }


@pytest.mark.parametrize("failure", FAILURES)
async def test_every_model_call_fails_cleanly_and_changes_nothing(api, caller, service_engine, failure):
    alice = caller()
    ids = await world(api, alice)
    error, text, status = FAILURES[failure]
    before = await snapshot(service_engine)

    wrong = []
    for name, (method, url, body) in calls(ids).items():
        if failure == "invalid output" and name == "ask a question":
            continue  # a plain-text answer: any text is a valid question
        model = FailingModel(error, text)
        api.app.state[MODELS] = OneModel(model)
        got = await api.request(method, url, json=body, headers=alice.headers)
        problem = got.headers.get("content-type", "").startswith("application/problem+json")
        retry_after = got.headers.get("retry-after") == "7" if failure == "rate limited" else True
        if (got.status_code, problem, retry_after) != (status, True, True):
            wrong.append(f"{name}: {got.status_code} {got.headers.get('content-type')} {got.text[:160]}")
        if failure == "invalid output":
            assert model.calls == 2, f"{name}: an invalid answer is retried once, then refused"

    assert not wrong, "\n".join(wrong)
    assert await snapshot(service_engine) == before
