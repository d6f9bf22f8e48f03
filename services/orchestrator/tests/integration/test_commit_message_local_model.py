"""A commit message from the real local model (llama.cpp's server on SmolLM2-135M), registered by
an admin as the default: the JSON-schema grammar keeps the answer's shape, and the message is
checked like any other. A 135M model may still break a rule twice (a clear 502, nothing else);
what it wrote and how long it took are printed, never asserted.
"""

from __future__ import annotations

import time

SEED = 7


async def test_the_local_model_writes_a_message_that_validates_or_a_clear_502(api, caller, local_model):
    registered = await api.post(
        "/api/v1/ai-models",
        json={
            "name": "local",
            "provider": "local",
            "model": local_model.model,
            "base_url": local_model.url,
            "parameters": {"seed": SEED},
            "is_default": True,
        },
        headers=caller("admin").headers,
    )
    assert registered.status_code == 201, registered.text
    owner = caller()
    project = await api.post("/api/v1/projects", json={"name": "Mug shop"}, headers=owner.headers)
    task = await api.post(
        f"/api/v1/projects/{project.json()['id']}/tasks",
        json={"title": "Add the cart page"},
        headers=owner.headers,
    )
    started = time.monotonic()
    answer = await api.post(
        "/api/v1/commits/generate",
        json={
            "task_id": task.json()["id"],
            "diff_summary": "shop/cart.py | 40 +++\nA cart page with totals.",
        },
        headers=owner.headers,
    )
    seconds = time.monotonic() - started
    print(f"\nlocal model commit message ({seconds:.2f} s, HTTP {answer.status_code}): {answer.text[:400]}")
    assert answer.status_code in (200, 502), answer.text
    if answer.status_code == 200:
        generated = answer.json()
        assert generated["validation"]["valid"] is True
        assert generated["model"] == local_model.model
    else:
        assert "stayed invalid after a retry" in answer.json()["detail"]
