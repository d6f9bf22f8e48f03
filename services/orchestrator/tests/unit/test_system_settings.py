"""System settings: known names only, typed and bounded values, all or nothing, changes recorded."""

from datetime import UTC, datetime

import pytest

from orchestrator.domain.settings import REGISTRY, InvalidSettings, SettingsChanged, SystemSettings
from shared.kernel.ids import new_id

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ADMIN = new_id()


def test_the_registry_has_the_settings_other_areas_read():
    assert {
        "default_model_id",
        "chat.budget.messages_per_window",
        "chat.budget.tokens_per_window",
        "chat.budget.window_seconds",
        "interview.max_questions",
        "ai.request_timeout_s",
    } <= set(REGISTRY)


def test_every_default_satisfies_its_own_rules():
    assert [name for name, spec in REGISTRY.items() if spec.problem(spec.default) is not None] == []


def test_an_unset_setting_has_its_default():
    settings = SystemSettings()

    assert settings.value("interview.max_questions") == REGISTRY["interview.max_questions"].default
    assert not settings.is_set("interview.max_questions")


def test_a_valid_change_applies_and_records_old_and_new():
    settings = SystemSettings()

    changes = settings.change({"interview.max_questions": 5}, actor_id=ADMIN, now=NOW)

    assert settings.value("interview.max_questions") == 5
    assert [(c.name, c.old, c.new) for c in changes] == [("interview.max_questions", 12, 5)]
    [event] = settings.pull_events()
    assert isinstance(event, SettingsChanged)
    assert event.actor_id == ADMIN


def test_every_invalid_value_is_listed_and_none_applies():
    settings = SystemSettings()

    with pytest.raises(InvalidSettings) as refused:
        settings.change(
            {
                "interview.max_questions": 0,
                "chat.budget.window_seconds": "a day",
                "ai.request_timeout_s": True,
                "no.such.setting": 1,
                "chat.budget.messages_per_window": 10,
            },
            actor_id=ADMIN,
            now=NOW,
        )

    assert dict(refused.value.errors) == {
        "ai.request_timeout_s": "must be an integer",
        "chat.budget.window_seconds": "must be an integer",
        "interview.max_questions": "must be at least 1",
        "no.such.setting": "no such setting",
    }
    assert settings.overrides == {}
    assert settings.pull_events() == []


def test_a_value_equal_to_the_current_one_changes_nothing():
    settings = SystemSettings(overrides={"interview.max_questions": 5})

    assert settings.change({"interview.max_questions": 5}, actor_id=ADMIN, now=NOW) == []
    assert settings.pull_events() == []


def test_a_reset_puts_the_default_back():
    settings = SystemSettings(overrides={"interview.max_questions": 5})

    changes = settings.change({}, reset=["interview.max_questions"], actor_id=ADMIN, now=NOW)

    assert [(c.old, c.new) for c in changes] == [(5, 12)]
    assert not settings.is_set("interview.max_questions")


def test_a_uuid_setting_takes_a_uuid_or_null_only():
    settings = SystemSettings()
    model_id = new_id()

    with pytest.raises(InvalidSettings, match="must be a uuid"):
        settings.change({"default_model_id": "not-a-uuid"}, actor_id=ADMIN, now=NOW)
    settings.change({"default_model_id": str(model_id).upper()}, actor_id=ADMIN, now=NOW)

    assert settings.value("default_model_id") == str(model_id)


def test_an_integral_number_counts_as_an_integer():
    settings = SystemSettings()

    settings.change({"interview.max_questions": 5.0}, actor_id=ADMIN, now=NOW)

    assert settings.value("interview.max_questions") == 5
    assert isinstance(settings.value("interview.max_questions"), int)
    with pytest.raises(InvalidSettings, match="must be an integer"):
        settings.change({"interview.max_questions": 5.5}, actor_id=ADMIN, now=NOW)
