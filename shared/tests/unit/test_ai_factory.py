"""The factory builds the adapter a provider needs, with the configuration's defaults."""

import httpx
import pytest

from shared.ai.factory import ModelConfig, build_model
from shared.ai.offline import OfflineModel
from shared.ai.ollama import OllamaModel
from shared.ai.openai_compatible import OpenAICompatibleModel
from shared.kernel.ai import ChatMessage, ChatRequest, Parameters


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


def test_each_provider_gets_its_adapter(http):
    assert isinstance(build_model(ModelConfig(provider="offline", model="offline"), http=http), OfflineModel)
    assert isinstance(build_model(ModelConfig(provider="ollama", model="llama3.2"), http=http), OllamaModel)
    openai = build_model(ModelConfig(provider="openai", model="gpt-4o-mini", api_key="sk-x"), http=http)
    local = build_model(
        ModelConfig(provider="local", model="smollm2", base_url="http://127.0.0.1:1/v1"), http=http
    )
    assert isinstance(openai, OpenAICompatibleModel)
    assert isinstance(local, OpenAICompatibleModel)


def test_a_local_model_asks_for_structured_output_the_way_llama_cpp_reads_it(http):
    local = build_model(
        ModelConfig(provider="local", model="smollm2", base_url="http://127.0.0.1:1/v1"), http=http
    )
    request = ChatRequest(
        model="smollm2",
        messages=[ChatMessage(role="user", content="hi")],
        parameters=Parameters(json_schema='{"type": "object"}'),
    )

    assert local._body(request)["response_format"] == {"type": "json_object", "schema": {"type": "object"}}


def test_a_local_model_without_a_base_url_is_refused(http):
    with pytest.raises(ValueError, match="needs a base URL"):
        build_model(ModelConfig(provider="local", model="smollm2"), http=http)


def test_an_unknown_provider_is_refused(http):
    with pytest.raises(ValueError, match="unknown model provider"):
        build_model(ModelConfig(provider="gemini", model="x"), http=http)  # type: ignore[arg-type]


async def test_the_offline_model_gets_the_writers_and_the_configured_name(http):
    config = ModelConfig(provider="offline", model="offline", name="offline-demo")
    model = build_model(config, http=http, offline_writers={"T": lambda request: '{"ok": true}'})
    request = ChatRequest(
        model="offline",
        messages=[ChatMessage(role="user", content="hi")],
        parameters=Parameters(json_schema='{"title": "T"}'),
    )

    assert (await model.complete(request)).content == '{"ok": true}'
    assert model.name == "offline-demo"


def test_the_key_is_not_in_the_configurations_repr_nor_the_models(http):
    config = ModelConfig(provider="openai", model="gpt-4o-mini", api_key="sk-very-secret")

    assert "sk-very-secret" not in repr(config)
    assert "sk-very-secret" not in repr(build_model(config, http=http))
