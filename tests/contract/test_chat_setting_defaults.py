"""chat's idea of a setting nobody changed is orchestrator's: ChatLimits' defaults are the registry's."""

import dataclasses
from uuid import UUID

import pytest

from chat.domain.limits import SETTING_FIELDS, ChatLimits
from orchestrator.domain.settings import REGISTRY

DEFAULTS = ChatLimits()


@pytest.mark.parametrize("name", sorted(SETTING_FIELDS))
def test_chat_limits_default_equals_the_registry_default(name):
    spec = REGISTRY[name]  # a KeyError: chat replicates a setting orchestrator does not have
    ours = getattr(DEFAULTS, SETTING_FIELDS[name])
    theirs = UUID(spec.default) if spec.type == "uuid" and isinstance(spec.default, str) else spec.default
    assert ours == theirs


def test_every_chat_limit_is_replicated_from_a_setting():
    assert sorted(SETTING_FIELDS.values()) == sorted(f.name for f in dataclasses.fields(ChatLimits))


def test_every_chat_setting_of_the_registry_is_one_chat_replicates():
    chat_settings = {name for name in REGISTRY if name.startswith("chat.")}
    assert chat_settings <= set(SETTING_FIELDS)
