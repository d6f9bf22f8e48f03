"""The model catalog with fake replica reads: which model answers, the settings' caps on its
parameters and timeouts, the key unsealed only to build the model, and ~1 s of reuse."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

import httpx
import pytest

from chat import SERVICE
from chat.adapters.ai.catalog import BUILT_IN, ReplicaModelCatalog, default_parameters
from chat.application.ports.replicas import ModelNotAvailable, ModelReplica
from chat.domain.limits import ChatLimits, limits_from
from chat.settings import Settings
from shared.ai.offline import OfflineModel
from shared.ai.openai_compatible import OpenAICompatibleModel
from shared.crypto.key_file import KeyFile
from shared.crypto.sealing import seal_api_key
from shared.kernel.ai import ModelAuthenticationFailed, ModelRequestRejected
from shared.kernel.ids import new_id
from shared.service_settings import load_service_settings

AT = datetime(2026, 3, 10, tzinfo=UTC)


def entry(**changes: object) -> ModelReplica:
    model = ModelReplica(
        id=new_id(),
        name="GPT small",
        provider="openai",
        base_url="http://127.0.0.1:9/v1",
        model="gpt-4o-mini",
        parameters={"temperature": 0.2, "max_tokens": 4_096},
        enabled=True,
        is_default=False,
        sealed_api_key=None,
        changed_at=AT,
    )
    return replace(model, **changes)  # type: ignore[arg-type]


class FakeReplicas:
    """What the replicas hold: limits, and the models that answer each requested id."""

    def __init__(self, limits: ChatLimits | None = None) -> None:
        self.limits = limits or ChatLimits()
        self.by_id: dict[UUID, ModelReplica] = {}
        self.default: ModelReplica | None = None
        self.reads = 0

    async def __call__(self, model_id: UUID | None) -> tuple[ChatLimits, ModelReplica | None]:
        self.reads += 1
        if model_id is None:
            return self.limits, self.default
        return self.limits, self.by_id.get(model_id)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def seal_keys(tmp_path) -> KeyFile:
    return KeyFile(tmp_path / "seal.json")


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


def catalog(replicas: FakeReplicas, seal_keys: KeyFile, http, **options) -> ReplicaModelCatalog:
    return ReplicaModelCatalog(read=replicas, seal_keys=seal_keys, http=http, **options)


async def test_no_model_anywhere_is_the_built_in_offline_one(seal_keys, http):
    resolved = await catalog(FakeReplicas(), seal_keys, http).resolve()

    assert (resolved.id, resolved.name) == (None, BUILT_IN)
    assert isinstance(resolved.model, OfflineModel)
    assert resolved.parameters.max_tokens == ChatLimits().max_output_tokens
    assert resolved.timeouts.total_s == 120


async def test_the_default_the_replicas_answer_is_built_as_its_provider_speaks(seal_keys, http):
    replicas = FakeReplicas()
    replicas.default = entry(is_default=True)

    resolved = await catalog(replicas, seal_keys, http).resolve()

    assert resolved.id == replicas.default.id
    assert resolved.name == "gpt-4o-mini"
    assert isinstance(resolved.model, OpenAICompatibleModel)


async def test_a_requested_enabled_model_answers(seal_keys, http):
    replicas = FakeReplicas()
    wanted = entry()
    replicas.by_id[wanted.id] = wanted
    replicas.default = entry(is_default=True)

    assert (await catalog(replicas, seal_keys, http).resolve(wanted.id)).id == wanted.id


async def test_a_requested_model_the_replicas_do_not_answer_is_refused_not_replaced(seal_keys, http):
    replicas = FakeReplicas()
    replicas.default = entry(is_default=True)
    unknown = new_id()

    with pytest.raises(ModelNotAvailable) as refused:
        await catalog(replicas, seal_keys, http).resolve(unknown)

    assert refused.value.model_id == unknown


async def test_the_settings_cap_max_tokens_and_set_the_total_timeout(seal_keys, http):
    replicas = FakeReplicas(ChatLimits(max_output_tokens=512, request_timeout_s=20))
    replicas.default = entry(is_default=True)

    resolved = await catalog(replicas, seal_keys, http).resolve()

    assert resolved.parameters.max_tokens == 512
    assert resolved.parameters.temperature == 0.2
    assert (resolved.timeouts.total_s, resolved.timeouts.first_token_s) == (20, 20)


async def test_a_model_whose_own_max_tokens_is_lower_keeps_it(seal_keys, http):
    replicas = FakeReplicas()
    replicas.default = entry(parameters={"max_tokens": 100})

    assert (await catalog(replicas, seal_keys, http).resolve()).parameters.max_tokens == 100


async def test_the_sealed_key_is_unsealed_into_the_model_and_appears_in_no_repr(seal_keys, http):
    replicas = FakeReplicas()
    model = entry()
    replicas.default = replace(model, sealed_api_key=seal_api_key("sk-secret-1234", model.id, seal_keys))

    resolved = await catalog(replicas, seal_keys, http).resolve()

    assert "sk-secret-1234" not in repr(resolved)
    assert "sk-secret-1234" not in repr(replicas.default)
    assert resolved.model._headers()["authorization"] == "Bearer sk-secret-1234"  # type: ignore[attr-defined]


async def test_a_key_under_another_seal_key_fails_as_the_model_naming_no_key(seal_keys, http, tmp_path):
    replicas = FakeReplicas()
    model = entry()
    elsewhere = KeyFile(tmp_path / "other-seal.json")
    replicas.default = replace(model, sealed_api_key=seal_api_key("sk-secret-1234", model.id, elsewhere))

    with pytest.raises(ModelAuthenticationFailed) as failed:
        await catalog(replicas, seal_keys, http).resolve()

    assert "sk-secret" not in failed.value.detail


async def test_a_key_sealed_for_another_model_does_not_unseal(seal_keys, http):
    replicas = FakeReplicas()
    replicas.default = entry(sealed_api_key=seal_api_key("sk-secret-1234", new_id(), seal_keys))

    with pytest.raises(ModelAuthenticationFailed):
        await catalog(replicas, seal_keys, http).resolve()


async def test_a_provider_this_build_does_not_know_is_a_model_failure(seal_keys, http):
    replicas = FakeReplicas()
    replicas.default = entry(provider="quantum")

    with pytest.raises(ModelRequestRejected):
        await catalog(replicas, seal_keys, http).resolve()


async def test_what_was_read_is_reused_for_the_cache_time_then_read_again(seal_keys, http):
    replicas, clock = FakeReplicas(), Clock()
    models = catalog(replicas, seal_keys, http, cache_s=1.0, clock=clock)

    await models.resolve()
    clock.t += 0.5
    await models.resolve()
    assert replicas.reads == 1

    replicas.default = entry(is_default=True)
    clock.t += 0.6
    assert (await models.resolve()).id == replicas.default.id
    assert replicas.reads == 2


async def test_ids_that_name_no_model_are_not_remembered(seal_keys, http):
    replicas = FakeReplicas()
    models = catalog(replicas, seal_keys, http, cache_s=60.0)

    for _ in range(3):
        with pytest.raises(ModelNotAvailable):
            await models.resolve(new_id())

    assert models._read == {}  # type: ignore[attr-defined]
    assert replicas.reads == 3


async def test_without_a_cache_every_resolve_reads(seal_keys, http):
    replicas = FakeReplicas()
    models = catalog(replicas, seal_keys, http, cache_s=0)

    await models.resolve()
    await models.resolve()

    assert replicas.reads == 2


def test_parameters_of_unexpected_types_are_left_out_not_sent():
    parameters = default_parameters(
        {"temperature": "hot", "top_p": True, "max_tokens": -5, "stop": ["END", 7], "seed": 1.5},
        max_tokens=300,
    )

    assert (parameters.temperature, parameters.top_p, parameters.max_tokens) == (None, None, 300)
    assert (parameters.stop, parameters.seed) == (("END",), None)


def test_limits_keep_their_default_for_a_value_of_the_wrong_shape():
    chosen = new_id()
    limits = limits_from(
        {
            "default_model_id": str(chosen),
            "chat.budget.messages_per_window": 5,
            "chat.budget.tokens_per_window": "many",
            "chat.max_message_chars": True,
            "ai.request_timeout_s": 30.0,
            "interview.max_questions": 3,
        }
    )

    assert limits == ChatLimits(default_model_id=chosen, messages_per_window=5, request_timeout_s=30)
    assert limits_from({"default_model_id": None}).default_model_id is None
    assert limits_from({"default_model_id": "not-a-uuid"}).default_model_id is None


def test_chat_unseals_with_the_seal_key_file_orchestrator_seals_with():
    minimal = {"DATABASE_URL": "postgresql://chat:pw@db/aiorch", "NATS_URL": "nats://bus:4222"}
    shared_file = load_service_settings(
        Settings, SERVICE, {**minimal, "AIORCH_MODEL_SEAL_KEY_FILE": "/run/secrets/seal.json"}
    )
    defaults = load_service_settings(Settings, SERVICE, minimal)

    assert shared_file.model_seal_key_file == "/run/secrets/seal.json"
    assert (defaults.model_seal_key_file, defaults.offline_pace_ms, defaults.model_cache_ms) == (
        ".cluster/model-seal-key.json",
        0,
        1000,
    )
