"""A registry entry as the adapter factory's configuration: its parameters as defaults, capped by the
settings' ``ai.max_output_tokens``, and its key never in a repr."""

from datetime import UTC, datetime

from orchestrator.adapters.ai.models import default_parameters, model_config
from orchestrator.domain.ai_models import AIModel
from shared.kernel.ai import Timeouts
from shared.kernel.ids import new_id

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_settings_cap_applies_unless_the_model_asks_for_fewer_tokens():
    assert default_parameters({}, max_tokens=2048).max_tokens == 2048
    assert default_parameters({"max_tokens": 100}, max_tokens=2048).max_tokens == 100
    assert default_parameters({"max_tokens": 9000}, max_tokens=2048).max_tokens == 2048
    assert default_parameters({"max_tokens": 100}).max_tokens == 100


def test_the_models_parameters_become_request_defaults():
    parameters = default_parameters({"temperature": 0.2, "top_p": 0.9, "seed": 7, "stop": ["END"]})

    assert (parameters.temperature, parameters.top_p, parameters.seed, parameters.stop) == (
        0.2,
        0.9,
        7,
        ("END",),
    )


def test_the_configuration_carries_the_key_but_never_shows_it():
    model = AIModel(
        id=new_id(),
        name="gpt",
        provider="openai",
        base_url="https://api.example.com/v1",
        model="gpt-4o-mini",
        created_at=NOW,
        updated_at=NOW,
    )

    config = model_config(model, api_key="sk-secret-0123456789abcdef", timeouts=Timeouts(total_s=9))

    assert config.api_key == "sk-secret-0123456789abcdef"
    assert "sk-secret" not in repr(config)
    assert (config.name, config.timeouts.total_s) == ("gpt", 9)


def test_a_request_body_with_a_key_never_shows_it():
    from orchestrator.entrypoints.http.ai_model_schemas import AIModelChange, AIModelCreate

    created = AIModelCreate(name="gpt", provider="openai", model="m", api_key="sk-secret-0123456789abcdef")
    changed = AIModelChange(api_key="sk-secret-0123456789abcdef")

    assert "sk-secret" not in repr(created) + repr(changed)
