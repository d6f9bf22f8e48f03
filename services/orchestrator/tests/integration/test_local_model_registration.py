"""With a local model server configured (``make run LLM=local``), the API registers an enabled model
``local`` at its start, updates it when the URL changes, and leaves it be when nothing did."""

import msgspec
import sqlalchemy as sa
from litestar.testing import AsyncTestClient


async def start_and_list(service_root, settings, caller) -> list[dict]:
    async with AsyncTestClient(app=service_root.create_app(settings)) as client:
        answer = await client.get("/api/v1/ai-models", headers=caller("admin").headers)
    return answer.json()["items"]


async def announced(service_engine) -> list[str]:
    async with service_engine.connect() as conn:
        rows = await conn.execute(sa.text("SELECT payload FROM outbox ORDER BY id"))
        return [msgspec.json.decode(r.payload)["type"].split(".")[3] for r in rows]


async def test_the_local_model_is_registered_once_and_follows_its_url(
    service_root, api_settings, caller, service_engine, nats_client
):
    first = msgspec.structs.replace(api_settings, local_model_url="http://127.0.0.1:8091/v1")
    moved = msgspec.structs.replace(api_settings, local_model_url="http://127.0.0.1:8092/v1")

    [registered] = await start_and_list(service_root, first, caller)
    await start_and_list(service_root, first, caller)
    [updated] = await start_and_list(service_root, moved, caller)

    assert (registered["name"], registered["provider"], registered["enabled"]) == ("local", "local", True)
    assert updated["id"] == registered["id"]
    assert updated["base_url"] == "http://127.0.0.1:8092/v1"
    assert await announced(service_engine) == ["created", "updated"]
