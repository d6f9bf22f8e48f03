"""A chat once against a real model: llama.cpp's server on SmolLM2-135M (the ``local_model``
fixture) registered in chat's replica as the default model, real tokens streamed end to end
over SSE and stored with their usage."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from services.chat.tests.integration.test_replies_api import a_finished, sse_frames

from chat.application.ports.replicas import ModelReplica
from shared.kernel.ids import new_id


async def test_a_reply_from_the_local_model_is_streamed_token_by_token(api, caller, uow, local_model):
    model_id = new_id()
    async with uow() as work:
        await work.models.save(
            ModelReplica(
                id=model_id,
                name="local",
                provider="local",
                base_url=local_model.url,
                model=local_model.model,
                parameters={"max_tokens": 48},
                enabled=True,
                is_default=True,
                sealed_api_key=None,
                changed_at=datetime.now(UTC),
            )
        )
        await work.commit()
    alice = caller()
    conversation = (await api.post("/api/v1/conversations", json={}, headers=alice.headers)).json()
    started = await api.post(
        f"/api/v1/conversations/{conversation['id']}/messages",
        json={"content": "Name three colours of the rainbow."},
        headers=alice.headers,
    )
    assert started.status_code == 202, started.text
    reply = started.json()["reply"]
    assert reply["model_id"] is None  # the conversation names none: the default answers

    answer = await api.get(f"/api/v1/messages/{reply['id']}/stream", headers=alice.headers, timeout=120)
    frames = sse_frames(answer.text)
    chunks = [data for _, event, data in frames if event == "chunk"]
    assert frames[-1][1] == "done", json.dumps(frames[-1])
    assert len(chunks) > 1
    stored = await a_finished(api, alice, reply["id"])
    assert stored["status"] == "completed"
    assert stored["content"].strip()
    assert stored["content"] == "".join(c["data"] for c in chunks)
    assert stored["usage"]["completion_tokens"] > 0
    assert stored["model_id"] == str(model_id)  # the model that answered is recorded
