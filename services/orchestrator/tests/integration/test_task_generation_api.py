"""Tasks generated from a prompt version, with the offline model and with a model that answers badly."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest

from orchestrator.application.ports import ResolvedModel
from orchestrator.entrypoints.http.dependencies import MODELS
from shared.kernel.ai import ChatCompletion, ChatRequest

pytestmark = pytest.mark.asyncio

REQUIREMENTS = """# Bookshop
- Visitors browse the catalogue
- Visitors search books by title
- Customers pay securely at checkout
"""


@dataclass
class ScriptedModel:
    """Answers each request with the next scripted text; records what it was asked."""

    answers: list[str]
    asked: list[ChatRequest] = field(default_factory=list)

    async def complete(self, request: ChatRequest) -> ChatCompletion:
        self.asked.append(request)
        return ChatCompletion(content=self.answers[len(self.asked) - 1], finish_reason="stop")

    def stream(self, request: ChatRequest):  # pragma: no cover - generation completes whole
        raise NotImplementedError


@dataclass
class ScriptedCatalog:
    model: ScriptedModel

    async def resolve(self, model_id=None) -> ResolvedModel:
        return ResolvedModel(id=None, name="scripted", provider="test", model=self.model)


async def project_with_prompt(api, who) -> tuple[str, str]:
    project = (await api.post("/api/v1/projects", json={"name": "Shop"}, headers=who.headers)).json()["id"]
    prompt = await api.post(
        f"/api/v1/projects/{project}/prompts",
        json={"title": "Reqs", "content": REQUIREMENTS},
        headers=who.headers,
    )
    assert prompt.status_code == 201, prompt.text
    return project, prompt.json()["id"]


async def generate(api, who, project, prompt, **body):
    return await api.post(
        f"/api/v1/projects/{project}/tasks/generate",
        json={"prompt_id": prompt, "num_tasks": 10, **body},
        headers=who.headers,
    )


async def todo_titles(api, who, project) -> list[str]:
    board = (await api.get(f"/api/v1/projects/{project}/tasks", headers=who.headers)).json()
    return [
        card["title"] for column in board["columns"] if column["status"] == "todo" for card in column["tasks"]
    ]


async def test_the_offline_model_plans_one_task_per_requirement_each_after_the_one_before(api, caller):
    alice = caller()
    project, prompt = await project_with_prompt(api, alice)

    answer = await generate(api, alice, project, prompt)

    assert answer.status_code == 201, answer.text
    tasks = answer.json()["tasks"]
    assert [t["title"] for t in tasks] == [
        "Visitors browse the catalogue",
        "Visitors search books by title",
        "Customers pay securely at checkout",
    ]
    assert [t["dependencies"] for t in tasks] == [[], [tasks[0]["id"]], [tasks[1]["id"]]]
    assert answer.json()["model"] == "offline"
    assert await todo_titles(api, alice, project) == [t["title"] for t in tasks]
    nxt = (await api.get(f"/api/v1/projects/{project}/next-task", headers=alice.headers)).json()
    assert nxt["id"] == tasks[0]["id"]


async def test_replace_needs_an_empty_board_and_append_keeps_it_and_builds_on_it(api, caller):
    alice = caller()
    project, prompt = await project_with_prompt(api, alice)
    first = (await generate(api, alice, project, prompt, num_tasks=2)).json()["tasks"]

    refused = await generate(api, alice, project, prompt)
    appended = await generate(api, alice, project, prompt, mode="append", num_tasks=1)

    assert refused.status_code == 409
    assert appended.status_code == 201, appended.text
    new = appended.json()["tasks"]
    assert len(new) == 1
    assert new[0]["dependencies"] == [first[-1]["id"]]
    assert len(await todo_titles(api, alice, project)) == 3


async def test_an_answer_invalid_twice_is_a_502_and_writes_nothing(api, caller):
    alice = caller()
    project, prompt = await project_with_prompt(api, alice)
    cyclic = {
        "tasks": [
            {
                "id": 1,
                "title": "A",
                "description": "",
                "details": "",
                "test_strategy": "",
                "priority": "low",
                "dependencies": [2],
            },
            {
                "id": 2,
                "title": "B",
                "description": "",
                "details": "",
                "test_strategy": "",
                "priority": "low",
                "dependencies": [1],
            },
        ]
    }
    model = ScriptedModel(answers=["not json at all", json.dumps(cyclic)])
    api.app.state[MODELS] = ScriptedCatalog(model)

    answer = await generate(api, alice, project, prompt)

    assert answer.status_code == 502
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "dependency cycle" in answer.json()["detail"]
    assert len(model.asked) == 2
    assert "does not fit the schema" in model.asked[1].messages[-1].content
    assert await todo_titles(api, alice, project) == []


async def test_an_invalid_first_answer_is_asked_again_and_the_second_is_used(api, caller):
    alice = caller()
    project, prompt = await project_with_prompt(api, alice)
    valid = {
        "tasks": [
            {
                "id": 1,
                "title": "Only",
                "description": "",
                "details": "",
                "test_strategy": "",
                "priority": "high",
                "dependencies": [],
            }
        ]
    }
    api.app.state[MODELS] = ScriptedCatalog(ScriptedModel(answers=['{"tasks": []}', json.dumps(valid)]))

    answer = await generate(api, alice, project, prompt)

    assert answer.status_code == 201, answer.text
    assert answer.json()["attempts"] == 2
    assert await todo_titles(api, alice, project) == ["Only"]


async def test_a_prompt_of_another_project_is_not_found(api, caller):
    alice = caller()
    project, _ = await project_with_prompt(api, alice)
    _, elsewhere = await project_with_prompt(api, alice)

    answer = await generate(api, alice, project, elsewhere)

    assert answer.status_code == 404
