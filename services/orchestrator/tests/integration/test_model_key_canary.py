"""Secrets canary: an API key given to the registry, exercised through every path, appears in no
response, no log line, no database row in plaintext and no message published on NATS."""

import asyncio

import msgspec
import sqlalchemy as sa
from structlog.testing import capture_logs

from aiorch_devkit.testing.polling import eventually

CANARY = "sk-canary-7d1e2f3a4b5c6d7e8f90"
NEW_CANARY = "sk-canary-new-93b2c4d5e6f7a8b9"


async def every_row(service_engine) -> str:
    """Every row of every table of the schema as text: what a pg_dump would show."""
    async with service_engine.connect() as conn:
        tables = (
            await conn.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
            )
        ).scalars()
        dumped = []
        for table in list(tables):
            rows = await conn.execute(sa.text(f'SELECT row_to_json(t)::text FROM "{table}" t'))
            dumped += [f"{table}: {row}" for row in rows.scalars()]
    return "\n".join(dumped)


async def test_no_api_key_leaks_into_responses_logs_rows_or_events(
    api, caller, service_root, api_settings, service_engine, nats_client
):
    admin, user = caller("admin"), caller()
    published: list[tuple[bytes, dict[str, str]]] = []

    async def collect(message) -> None:
        published.append((message.data, dict(message.headers or {})))

    subscription = await nats_client.subscribe("orchestrator.>", cb=collect)
    answers = []
    async with service_root.open_worker(api_settings) as worker:
        stop = asyncio.Event()
        relay = asyncio.create_task(worker.relay.run(stop))
        with capture_logs() as logs:
            created = await api.post(
                "/api/v1/ai-models",
                json={
                    "name": "canary",
                    "provider": "openai",
                    "base_url": "http://127.0.0.1:9/v1",
                    "model": "gpt-4o-mini",
                    "api_key": CANARY,
                    "is_default": True,
                },
                headers=admin.headers,
            )
            answers.append(created)
            model_id = created.json()["id"]
            answers.append(await api.get("/api/v1/ai-models", headers=admin.headers))
            answers.append(await api.get("/api/v1/ai-models", headers=user.headers))
            answers.append(await api.get(f"/api/v1/ai-models/{model_id}", headers=admin.headers))
            answers.append(await api.post(f"/api/v1/ai-models/{model_id}/test", headers=admin.headers))
            answers.append(
                await api.patch(
                    f"/api/v1/ai-models/{model_id}", json={"name": "renamed"}, headers=admin.headers
                )
            )
            answers.append(
                await api.patch(
                    f"/api/v1/ai-models/{model_id}", json={"api_key": NEW_CANARY}, headers=admin.headers
                )
            )
            answers.append(await api.post(f"/api/v1/ai-models/{model_id}/test", headers=admin.headers))
            answers.append(
                await api.post(
                    "/api/v1/ai-models",
                    json={
                        "name": "bad",
                        "provider": "openai",
                        "model": "m",
                        "api_key": "has space " + CANARY,
                    },
                    headers=admin.headers,
                )
            )
            dumped = await every_row(service_engine)
            answers.append(await api.delete(f"/api/v1/ai-models/{model_id}", headers=admin.headers))

            async def all_published() -> bool:
                return sum(b"ai_model." in data for data, _ in published) >= 4

            await eventually(all_published)
        stop.set()
        await relay
    await subscription.unsubscribe()

    assert [a.status_code for a in answers] == [201, 200, 200, 200, 200, 200, 200, 200, 400, 204]
    assert answers[0].json()["api_key"] == "sk-…8f90"
    assert answers[4].json()["ok"] is False
    assert "ai_models: " in dumped
    texts = {
        "responses": " ".join(a.text for a in answers),
        "logs": repr(logs),
        "database": dumped,
        "NATS": repr(published),
    }
    for secret in (CANARY, NEW_CANARY):
        for where, text in texts.items():
            assert secret not in text, f"an API key appears in the {where}"
            assert secret.encode().hex() not in text, f"an API key appears hex-encoded in the {where}"
    created = [msgspec.json.decode(data) for data, _ in published if b"ai_model.created" in data]
    assert created[0]["sealed_api_key"].startswith("v1:")
