"""The model catalog over the real replicas in PostgreSQL: which model answers (requested, the
settings' default, the registry's default, the built-in offline one), refusals of a disabled or
deleted one, and an API key sealed by orchestrator's means unsealed into a working
OpenAI-compatible model."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from uuid import UUID

import httpx
import msgspec
import pytest

from chat.adapters.ai.catalog import BUILT_IN, ReplicaModelCatalog, reading
from chat.application.ports.replicas import ModelNotAvailable, ModelReplica
from chat.application.replicas import (
    ModelDeleted,
    SettingsChanged,
    on_model_changed,
    on_model_deleted,
    on_settings_changed,
)
from shared.ai.openai_compatible import OpenAICompatibleModel
from shared.crypto.key_file import KeyFile
from shared.crypto.sealing import seal_api_key
from shared.kernel.ai import ChatMessage, ChatRequest
from shared.kernel.ids import new_id

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def seal_keys(tmp_path) -> KeyFile:
    return KeyFile(tmp_path / "model-seal-key.json")


def model(
    *, enabled: bool = True, is_default: bool = False, minutes: int = 0, sealed: str | None = None, **kw
) -> ModelReplica:
    model_id = kw.pop("id", None) or new_id()
    return ModelReplica(
        id=model_id,
        name=kw.pop("name", f"model-{model_id.hex[-6:]}"),
        provider="openai",
        base_url="http://llm.test/v1",
        model=kw.pop("model", "gpt-4o-mini"),
        parameters={"temperature": 0.1},
        enabled=enabled,
        is_default=is_default,
        sealed_api_key=sealed,
        changed_at=T0 + timedelta(minutes=minutes),
    )


async def registered(uow, *models: ModelReplica) -> None:
    for entry in models:
        await on_model_changed(entry, uow())


async def deleted(uow, entry: ModelReplica) -> None:
    await on_model_deleted(
        ModelDeleted(model_id=entry.id, name=entry.name, at=T0 + timedelta(minutes=1)), uow()
    )


async def choose_default(uow, model_id: UUID | None, *, minutes: int = 1) -> None:
    values = [("default_model_id", None if model_id is None else str(model_id))]
    await on_settings_changed(SettingsChanged(values=values, at=T0 + timedelta(minutes=minutes)), uow())


@pytest.fixture
async def catalog(service_engine, seal_keys):
    async with httpx.AsyncClient() as http:
        yield ReplicaModelCatalog(read=reading(service_engine), seal_keys=seal_keys, http=http, cache_s=0)


async def test_an_empty_registry_answers_with_the_built_in_offline_model(catalog):
    resolved = await catalog.resolve()

    assert (resolved.id, resolved.name) == (None, BUILT_IN)
    assert (await resolved.model.complete(ChatRequest(model=BUILT_IN, messages=[]))).content is not None


async def test_the_registry_default_answers_when_the_settings_name_none(catalog, uow):
    default, other = model(is_default=True), model()
    await registered(uow, default, other)

    assert (await catalog.resolve()).id == default.id


async def test_the_settings_default_model_wins_over_the_registry_default(catalog, uow):
    default, chosen = model(is_default=True), model()
    await registered(uow, default, chosen)
    await choose_default(uow, chosen.id)

    assert (await catalog.resolve()).id == chosen.id


async def test_a_disabled_settings_default_falls_back_to_the_registry_default(catalog, uow):
    default, chosen = model(is_default=True), model(enabled=False)
    await registered(uow, default, chosen)
    await choose_default(uow, chosen.id)

    assert (await catalog.resolve()).id == default.id


async def test_a_deleted_registry_default_falls_back_to_the_offline_model(catalog, uow):
    default = model(is_default=True)
    await registered(uow, default)
    await deleted(uow, default)

    assert (await catalog.resolve()).id is None


async def test_a_requested_enabled_model_answers_over_every_default(catalog, uow):
    default, wanted = model(is_default=True), model()
    await registered(uow, default, wanted)

    assert (await catalog.resolve(wanted.id)).id == wanted.id


@pytest.mark.parametrize("state", ["unknown", "disabled", "deleted"])
async def test_a_requested_model_that_cannot_answer_is_refused(catalog, uow, state):
    entry = model(enabled=state != "disabled")
    await registered(uow, model(is_default=True))
    if state != "unknown":
        await registered(uow, entry)
    if state == "deleted":
        await deleted(uow, entry)

    with pytest.raises(ModelNotAvailable):
        await catalog.resolve(entry.id)


async def test_a_key_sealed_by_orchestrator_reaches_the_provider(service_engine, uow, seal_keys):
    """The replica holds the key sealed; the catalog unseals it with the shared seal key and the
    OpenAI-compatible adapter sends it as the bearer token to the model's base URL."""
    entry = model(is_default=True, model="tiny-chat")
    entry = replace(entry, sealed_api_key=seal_api_key("sk-live-9876", entry.id, seal_keys))
    await registered(uow, entry)
    seen: list[httpx.Request] = []

    def provider(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        stream = (
            'data: {"choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}\n\n'
            'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],'
            '"usage":{"prompt_tokens":4,"completion_tokens":1}}\n\n'
            "data: [DONE]\n\n"
        )
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, text=stream)

    async with httpx.AsyncClient(transport=httpx.MockTransport(provider)) as http:
        catalog = ReplicaModelCatalog(read=reading(service_engine), seal_keys=seal_keys, http=http)
        resolved = await catalog.resolve()
        assert isinstance(resolved.model, OpenAICompatibleModel)
        answer = await resolved.model.complete(
            ChatRequest(model=resolved.name, messages=[ChatMessage(role="user", content="Hi")])
        )

    assert answer.content == "Hello"
    (request,) = seen
    assert str(request.url) == "http://llm.test/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer sk-live-9876"
    body = msgspec.json.decode(request.content)
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("tiny-chat", 0.1, 2_048)
    assert "sk-live-9876" not in repr(resolved)
