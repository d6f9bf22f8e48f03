"""The AI-model aggregate's rules, and what its events carry (never a plaintext key)."""

from datetime import UTC, datetime

import pytest

from orchestrator.domain.ai_models import (
    AIModel,
    AIModelCreated,
    AIModelUpdated,
    SealedKey,
    StoredKey,
    mask_api_key,
)
from shared.kernel.errors import InvalidInput
from shared.kernel.ids import new_id

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def model(**overrides):
    values = dict(
        id=new_id(),
        name="gpt",
        provider="openai",
        base_url="https://api.example.com/v1",
        model="gpt-4o-mini",
        parameters={},
        enabled=True,
        is_default=False,
        api_key=StoredKey("k1", b"\x00" * 40),
        api_key_hint="sk-…cdef",
        sealed_api_key=SealedKey("v1:s1:opaque"),
        now=NOW,
    )
    return AIModel.create(**{**values, **overrides})


def test_a_long_key_is_masked_to_its_prefix_and_last_four():
    assert mask_api_key("sk-canary-0123456789abcdef") == "sk-…cdef"


def test_a_short_key_shows_at_most_two_characters():
    assert mask_api_key("abcdefghij") == "…ij"
    assert mask_api_key("abc") == "…"


def test_an_http_provider_needs_a_base_url():
    with pytest.raises(InvalidInput, match="needs a base_url"):
        model(base_url=None)


def test_the_offline_provider_needs_none():
    assert model(provider="offline", base_url=None).base_url is None


def test_the_default_must_be_enabled():
    with pytest.raises(InvalidInput, match="must be enabled"):
        model(enabled=False, is_default=True)


def test_creating_records_the_model_with_its_key_sealed_only():
    created = model()

    [event] = created.pull_events()

    assert isinstance(event, AIModelCreated)
    assert event.sealed_api_key == SealedKey("v1:s1:opaque")
    assert "opaque" not in repr(event)
    assert "api_key=" not in repr(created)


def test_disabling_the_default_is_refused():
    current = model(is_default=True)
    current.enabled = False

    with pytest.raises(InvalidInput):
        current.changed(now=NOW, sealed_api_key=None)


def test_a_change_records_the_model_as_it_is_now():
    current = model()
    current.pull_events()
    current.name = "renamed"

    current.changed(now=NOW, sealed_api_key=None)

    [event] = current.pull_events()
    assert isinstance(event, AIModelUpdated)
    assert event.name == "renamed"
