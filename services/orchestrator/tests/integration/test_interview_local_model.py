"""The interview and the prompt generation once against a real model: llama.cpp's server on
SmolLM2-135M (the ``local_model`` fixture), real tokens streamed, structured outputs constrained
by the JSON schemas and read by the same checks as any provider's."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from services.orchestrator.tests.integration.interview_steps import (
    answer,
    new_interview,
    new_project,
    sse_events,
)

from orchestrator.application.ports import ResolvedModel
from orchestrator.entrypoints.http.dependencies import MODELS
from shared.ai.factory import ModelConfig, build_model

pytestmark = pytest.mark.asyncio


class LocalCatalog:
    def __init__(self, model) -> None:
        self.model = model

    async def resolve(self, model_id=None) -> ResolvedModel:
        return ResolvedModel(id=None, name="local", provider="local", model=self.model)


async def test_an_interview_and_its_prompt_with_the_local_model(api, caller, local_model):
    async with httpx.AsyncClient() as http:
        model = build_model(
            ModelConfig(provider="local", model=local_model.model, base_url=local_model.url), http=http
        )
        api.app.state[MODELS] = LocalCatalog(model)
        alice = caller()
        project_id = await new_project(api, alice)
        interview = await new_interview(
            api, alice, project_id, topic="an online shop", goal="sell handmade mugs"
        )

        started = time.perf_counter()
        asked = await api.post(f"/api/v1/interviews/{interview['id']}/questions", headers=alice.headers)
        events = sse_events(asked.text)
        asked_s = time.perf_counter() - started
        chunks = [json.loads(data)["delta"] for name, data in events if name == "chunk"]
        assert events[-1][0] == "done", events[-1]
        done = json.loads(events[-1][1])
        assert len(chunks) > 1
        assert done["question"]
        assert done["usage"]["completion_tokens"] > 0

        started = time.perf_counter()
        replied = await answer(
            api, alice, interview["id"], "Small makers sell mugs to customers on their phones."
        )
        answered_s = time.perf_counter() - started
        assert replied.status_code == 200, replied.text
        assert replied.json()["interview"]["assessment"]["summary"]

        if not replied.json()["completed"]:
            finished = await api.post(f"/api/v1/interviews/{interview['id']}/finish", headers=alice.headers)
            assert finished.status_code == 200, finished.text

        started = time.perf_counter()
        generated = await api.post(
            f"/api/v1/projects/{project_id}/prompts/generate",
            json={"interview_id": interview["id"]},
            headers=alice.headers,
        )
        generated_s = time.perf_counter() - started
        assert generated.status_code == 201, generated.text
        prompt = generated.json()
        assert prompt["model"] == "local"
        assert prompt["content"].strip()
        print(
            f"\nlocal model: question {len(chunks)} chunks in {asked_s:.2f}s, "
            f"answer+assessment {answered_s:.2f}s, prompt generation {generated_s:.2f}s "
            f"({len(prompt['content'])} chars)"
        )
