"""The model catalog: the model a request names if enabled, else the setting's default model, else
the registry's default, else the built-in offline model."""

import httpx
import pytest
import sqlalchemy as sa

from orchestrator.adapters.ai.catalog import RegistryModelCatalog
from orchestrator.adapters.ai.offline_answers import WRITERS
from orchestrator.bootstrap import open_vault
from shared.kernel.ai import ChatMessage, ChatRequest, ModelAuthenticationFailed
from shared.kernel.errors import NotFound
from shared.kernel.ids import new_id


def offline(name: str, **extra) -> dict:
    return {"name": name, "provider": "offline", "model": "offline", **extra}


@pytest.fixture
async def catalog(api, api_settings, service_engine):
    # the app's own catalog lives on the test client's event loop: this one is the same, on ours
    async with httpx.AsyncClient() as http:
        yield RegistryModelCatalog(
            engine=service_engine, vault=open_vault(api_settings), http=http, offline_writers=WRITERS
        )


async def created(api, admin, body) -> str:
    answer = await api.post("/api/v1/ai-models", json=body, headers=admin.headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


async def test_an_empty_registry_resolves_to_the_built_in_offline_model(catalog):
    resolved = await catalog.resolve()

    answer = await resolved.model.complete(
        ChatRequest(model=resolved.name, messages=[ChatMessage(role="user", content="hello")])
    )
    assert (resolved.id, resolved.name, resolved.provider) == (None, "offline", "offline")
    assert answer.content


async def test_the_registry_default_answers_when_no_setting_names_one(api, caller, catalog):
    admin = caller("admin")
    await created(api, admin, offline("a"))
    default_id = await created(api, admin, offline("b", is_default=True))

    assert str((await catalog.resolve()).id) == default_id


async def test_the_setting_wins_over_the_registry_default(api, caller, catalog):
    admin = caller("admin")
    await created(api, admin, offline("a", is_default=True))
    chosen = await created(api, admin, offline("b"))
    await api.put("/api/v1/settings", json={"values": {"default_model_id": chosen}}, headers=admin.headers)

    assert str((await catalog.resolve()).id) == chosen


async def test_a_setting_naming_a_model_disabled_since_falls_back_to_the_registry_default(
    api, caller, catalog
):
    admin = caller("admin")
    default_id = await created(api, admin, offline("a", is_default=True))
    chosen = await created(api, admin, offline("b"))
    await api.put("/api/v1/settings", json={"values": {"default_model_id": chosen}}, headers=admin.headers)
    await api.patch(f"/api/v1/ai-models/{chosen}", json={"enabled": False}, headers=admin.headers)

    assert str((await catalog.resolve()).id) == default_id


async def test_a_named_model_resolves_only_while_enabled(api, caller, catalog):
    admin = caller("admin")
    model_id = await created(api, admin, offline("a"))
    assert str((await catalog.resolve(model_id)).id) == model_id

    await api.patch(f"/api/v1/ai-models/{model_id}", json={"enabled": False}, headers=admin.headers)

    with pytest.raises(NotFound):
        await catalog.resolve(model_id)
    with pytest.raises(NotFound):
        await catalog.resolve(new_id())


async def test_a_stored_key_that_no_longer_decrypts_is_a_model_failure_not_plaintext(
    api, caller, catalog, service_engine
):
    admin = caller("admin")
    body = {"name": "a", "provider": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m"}
    model_id = await created(api, admin, body | {"api_key": "sk-first-0123456789abcd"})
    await created(api, admin, body | {"name": "b", "api_key": "sk-second-0123456789abcd"})
    async with service_engine.begin() as conn:  # b's value on a's row: bound to b's id, refused for a
        await conn.execute(
            sa.text(
                "UPDATE ai_models SET api_key_ciphertext ="
                " (SELECT api_key_ciphertext FROM ai_models WHERE name = 'b') WHERE name = 'a'"
            )
        )

    with pytest.raises(ModelAuthenticationFailed, match="cannot be decrypted"):
        await catalog.resolve(model_id)
