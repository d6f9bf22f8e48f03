"""Every published contract round-trips, and payloads as first published still decode.

``payloads/`` keeps one message body per event type exactly as its first version
was published. A change to a contract that breaks one of them is a breaking
change: publish a new ``v2`` beside ``v1`` instead.
"""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from shared.contracts import Event, chat, event_type_of, identity, orchestrator
from shared.kernel.ids import new_id

PAYLOADS = Path(__file__).with_name("payloads")
ASYNCAPI = Path(__file__).parents[2] / "docs" / "asyncapi.yaml"
DECODERS: dict[str, msgspec.json.Decoder[Any]] = {
    "identity": identity.decoder,
    "chat": chat.decoder,
    "orchestrator": orchestrator.decoder,
}
CONTRACTS: list[type[Event]] = [
    identity.UserRegistered,
    identity.UserUpdated,
    identity.UserDeleted,
    identity.SessionRevoked,
    identity.UserSessionsRevoked,
    chat.UserErased,
    chat.ConversationCreated,
    chat.ConversationUpdated,
    chat.ConversationDeleted,
    chat.MessageCompleted,
    orchestrator.CommitRecorded,
    orchestrator.CommitDeleted,
    orchestrator.UserErased,
    orchestrator.ProjectCreated,
    orchestrator.ProjectUpdated,
    orchestrator.ProjectDeleted,
    orchestrator.TaskCreated,
    orchestrator.TaskUpdated,
    orchestrator.TaskMoved,
    orchestrator.TaskDeleted,
    orchestrator.AIModelCreated,
    orchestrator.AIModelUpdated,
    orchestrator.AIModelDeleted,
    orchestrator.SettingsChanged,
    orchestrator.PromptCreated,
    orchestrator.PromptLabelMoved,
    orchestrator.PromptDeleted,
    orchestrator.InterviewCompleted,
    orchestrator.InterviewCreated,
    orchestrator.InterviewCancelled,
    orchestrator.InterviewDeleted,
]


def sample_values() -> dict[str, Any]:
    """A valid value for every field name the contracts use; each contract takes the ones it has."""
    now = datetime.now(UTC)
    return {
        # identity's users and sessions, every service's erasure receipts
        "user_id": new_id(),
        "email": "someone@example.com",
        "erased_at": now,
        "cause_event_id": new_id(),
        "session_id": new_id(),
        "session_ids": [new_id(), new_id()],
        "reason": "logout",
        "revoked_at": now,
        # the AI-model registry and settings (orchestrator.ai_model.*, orchestrator.settings.changed)
        "model_id": new_id(),
        "name": "gpt-4o-mini",
        "provider": "openai",
        "base_url": "https://api.openai.com/v1",
        "model": "gpt-4o-mini",
        "parameters": {"temperature": 0.2},
        "enabled": True,
        "is_default": False,
        "api_key_hint": "sk-…abcd",
        "sealed_api_key": "v1:k1:AAAA",
        "actor_id": new_id(),
        "changes": [orchestrator.SettingChanged(name="interview.max_questions", old=12, new=8)],
        # projects and the board (orchestrator.project.*, orchestrator.task.*)
        "project_id": new_id(),
        "owner_id": new_id(),
        "task_id": new_id(),
        "status": "todo",
        "from_status": "backlog",
        "position": "a0",
        "version": 2,
        "fields": ("title",),
        # prompts and interviews (orchestrator.prompt.*, orchestrator.interview.*)
        "prompt_id": new_id(),
        "lineage_id": new_id(),
        "parent_id": new_id(),
        "labels": ("current",),
        "label": "production",
        "previous_version": 1,
        "interview_id": new_id(),
        "finished_by": "model",
        "questions": 3,
        "answers": 3,
        "covered_areas": 2,
        "open_questions": 1,
        # chat's conversations (chat.conversation.*) and recorded commits (orchestrator.commit.*)
        "conversation_id": new_id(),
        "title": "Login flow",
        "created_at": now,
        "updated_at": now,
        "commit_id": new_id(),
        "sha": "0a1b2c3d",
        "commit_type": "feat",
        # chat's replies (chat.message.*)
        "message_id": new_id(),
        "prompt_tokens": 12,
        "completion_tokens": 34,
    }


def sample(cls: type[Event]) -> Event:
    fields = {f.name for f in msgspec.structs.fields(cls)}
    values = {"event_id": new_id(), "occurred_at": datetime.now(UTC)}
    values |= {name: value for name, value in sample_values().items() if name in fields}
    if "status" in fields and cls.subject.startswith("orchestrator.project."):
        values["status"] = "active"  # a project's status, not a task's column
    if "status" in fields and cls.subject.startswith("chat.message."):
        values["status"] = "completed"  # how a reply ended
    return cls(**values)


def context_of(cls: type[Event]) -> str:
    return event_type_of(cls).split(".")[1]


@pytest.mark.parametrize("cls", CONTRACTS, ids=lambda c: event_type_of(c))
def test_contract_round_trips_through_its_context_decoder(cls):
    event = sample(cls)
    assert DECODERS[context_of(cls)].decode(msgspec.json.encode(event)) == event


@pytest.mark.parametrize("cls", CONTRACTS, ids=lambda c: event_type_of(c))
def test_type_and_subject_follow_the_naming_rule(cls):
    context, aggregate, name = cls.subject.split(".")
    assert event_type_of(cls) == f"aiorch.{context}.{aggregate}.{name}.v1"


@pytest.mark.parametrize("cls", CONTRACTS, ids=lambda c: event_type_of(c))
def test_every_contract_has_a_stored_first_version_payload(cls):
    assert (PAYLOADS / f"{event_type_of(cls)}.json").exists()


@pytest.mark.parametrize("cls", CONTRACTS, ids=lambda c: event_type_of(c))
def test_every_contract_is_in_the_event_catalog(cls):
    catalog = ASYNCAPI.read_text()
    assert f"name: {event_type_of(cls)}\n" in catalog
    assert f"address: {cls.subject}\n" in catalog


@pytest.mark.parametrize("path", sorted(PAYLOADS.glob("*.json")), ids=lambda p: p.stem)
def test_payloads_of_earlier_versions_still_decode(path):
    raw = path.read_bytes()
    event = DECODERS[path.stem.split(".")[1]].decode(raw)
    assert event_type_of(event) == path.stem
    stored = json.loads(raw)
    assert str(event.event_id) == stored["event_id"]


@pytest.mark.parametrize("cls", CONTRACTS, ids=lambda c: event_type_of(c))
def test_no_contract_carries_a_secret(cls):
    names = {f.name for f in msgspec.structs.fields(cls)}
    assert not names & {
        "password",
        "password_hash",
        "hash",
        "token",
        "refresh_token",
        "access_token",
        "api_key",
    }
