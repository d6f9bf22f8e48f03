"""Domain events become the public contracts, each with a fresh event id and nothing more."""

from datetime import UTC, datetime

import msgspec
import pytest

from identity.adapters.messaging.translators import to_contract
from identity.domain.events import DomainEvent, UserDeleted, UserRegistered, UserUpdated
from shared.contracts import identity as contracts
from shared.kernel.ids import new_id

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
USER = new_id()


def test_registration_becomes_user_registered():
    event = to_contract(UserRegistered(occurred_at=NOW, user_id=USER, email="a@b.org", name="A", role="user"))

    assert isinstance(event, contracts.UserRegistered)
    assert (event.user_id, event.email, event.name, event.role, event.occurred_at) == (
        USER,
        "a@b.org",
        "A",
        "user",
        NOW,
    )


def test_an_update_becomes_user_updated():
    event = to_contract(UserUpdated(occurred_at=NOW, user_id=USER, name=None, role="admin", is_active=False))

    assert isinstance(event, contracts.UserUpdated)
    assert (event.role, event.is_active, event.name) == ("admin", False, None)


def test_a_deletion_becomes_user_deleted():
    event = to_contract(UserDeleted(occurred_at=NOW, user_id=USER))

    assert event == contracts.UserDeleted(event_id=event.event_id, occurred_at=NOW, user_id=USER)


def test_every_translation_gets_its_own_event_id():
    deleted = UserDeleted(occurred_at=NOW, user_id=USER)

    assert to_contract(deleted).event_id != to_contract(deleted).event_id


def test_no_contract_carries_a_password_hash_or_token_field():
    for contract in (contracts.UserRegistered, contracts.UserUpdated, contracts.UserDeleted):
        names = {field.name for field in msgspec.structs.fields(contract)}
        assert not {n for n in names if any(w in n for w in ("password", "hash", "token", "secret"))}


def test_an_event_without_a_contract_is_a_programming_error():
    with pytest.raises(TypeError):
        to_contract(DomainEvent(occurred_at=NOW))
