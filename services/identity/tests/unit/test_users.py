"""The user aggregate: its rules and the events it records."""

from datetime import UTC, datetime, timedelta

import pytest

from identity.domain.events import UserDeleted, UserRegistered, UserUpdated
from identity.domain.users import MAX_NAME_LENGTH, User, normalise_name
from shared.kernel.errors import InvalidInput

NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def registered(**overrides) -> User:
    values = {"email": "ada@example.org", "name": "Ada", "password_hash": "$argon2id$...", "now": NOW}
    return User.register(**(values | overrides))


def test_a_new_account_is_an_active_user_with_an_unverified_email_and_records_its_registration():
    user = registered()

    assert (user.role, user.is_active, user.email_verified, user.created_at) == ("user", True, False, NOW)
    assert user.pull_events() == [
        UserRegistered(occurred_at=NOW, user_id=user.id, email="ada@example.org", name="Ada", role="user")
    ]


def test_events_are_handed_over_once():
    user = registered()
    user.pull_events()

    assert user.pull_events() == []


def test_the_password_hash_is_never_in_the_repr_nor_in_an_event():
    user = registered(password_hash="$argon2id$v=19$secret-hash")
    user.rename("Ada L.", LATER)

    assert "secret-hash" not in repr(user)
    assert all("secret-hash" not in repr(event) for event in user.pull_events())


def test_renaming_records_an_update_stating_name_role_and_active_flag():
    user = registered()
    user.pull_events()

    user.rename("Ada L.", LATER)

    assert user.updated_at == LATER
    assert user.pull_events() == [
        UserUpdated(occurred_at=LATER, user_id=user.id, name="Ada L.", role="user", is_active=True)
    ]


def test_a_change_to_the_same_value_records_nothing():
    user = registered()
    user.pull_events()

    user.rename("Ada", LATER)
    assert not user.change_role("user", LATER)
    assert not user.set_active(True, LATER)

    assert user.pull_events() == []
    assert user.updated_at == NOW


def test_role_and_active_changes_record_updates():
    user = registered()
    user.pull_events()

    assert user.change_role("admin", LATER)
    assert user.set_active(False, LATER)

    assert [(e.role, e.is_active) for e in user.pull_events()] == [("admin", True), ("admin", False)]


def test_an_unknown_role_is_refused():
    with pytest.raises(InvalidInput):
        registered().change_role("root", LATER)  # type: ignore[arg-type]


def test_deletion_records_the_deleted_event():
    user = registered()
    user.pull_events()

    user.delete(LATER)

    assert user.pull_events() == [UserDeleted(occurred_at=LATER, user_id=user.id)]


def test_email_verification_keeps_the_first_time():
    user = registered()
    user.verify_email(NOW)
    user.verify_email(LATER)

    assert user.email_verified_at == NOW


def test_names_are_collapsed_and_blank_means_none():
    assert normalise_name("  Ada \t Lovelace ") == "Ada Lovelace"
    assert normalise_name("   ") is None
    assert normalise_name(None) is None


@pytest.mark.parametrize("raw", ["x" * (MAX_NAME_LENGTH + 1), "Ada\x07"])
def test_names_too_long_or_with_control_characters_are_refused(raw):
    with pytest.raises(InvalidInput):
        normalise_name(raw)
