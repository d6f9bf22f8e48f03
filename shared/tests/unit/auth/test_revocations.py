"""The revocation state: which principals identity's events refuse, and which role they get."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.auth.principal import Principal
from shared.auth.revocations import MAX_TOKEN_LIFETIME, RETENTION, Revocations, RevocationsUnknown
from shared.auth.verifier import InvalidToken
from shared.contracts import identity
from shared.kernel.ids import new_id

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
USER, SESSION = new_id(), new_id()


def principal(*, role="user", issued_at=T0, lifetime=timedelta(minutes=15), session_id=SESSION) -> Principal:
    return Principal(
        user_id=USER,
        role=role,
        session_id=session_id,
        token_id="jti",
        expires_at=issued_at + lifetime,
        issued_at=issued_at,
    )


def updated(*, role="user", active=True, at=T0) -> identity.UserUpdated:
    return identity.UserUpdated(event_id=new_id(), occurred_at=at, user_id=USER, role=role, is_active=active)


@pytest.fixture
def revocations() -> Revocations:
    state = Revocations()
    state.caught_up = True
    return state


def test_nothing_is_admitted_before_the_feed_caught_up():
    with pytest.raises(RevocationsUnknown):
        Revocations().admit(principal())


def test_a_principal_nobody_said_anything_about_is_admitted_as_it_is(revocations):
    assert revocations.admit(principal()) == principal()


def test_a_revoked_session_s_tokens_are_refused_and_others_are_not(revocations):
    other = new_id()
    revocations.apply(
        identity.SessionRevoked(
            event_id=new_id(),
            occurred_at=T0,
            session_id=SESSION,
            user_id=USER,
            reason="logout",
            revoked_at=T0,
        )
    )

    with pytest.raises(InvalidToken, match="session revoked"):
        revocations.admit(principal())
    assert revocations.admit(principal(session_id=other)).session_id == other


def test_every_session_a_bulk_revocation_names_is_refused_and_only_those(revocations):
    kept, gone = new_id(), new_id()
    revocations.apply(
        identity.UserSessionsRevoked(
            event_id=new_id(),
            occurred_at=T0,
            user_id=USER,
            session_ids=[SESSION, gone],
            reason="password_changed",
            revoked_at=T0,
        )
    )

    for session_id in (SESSION, gone):
        with pytest.raises(InvalidToken):
            revocations.admit(principal(session_id=session_id))
    assert revocations.admit(principal(session_id=kept)).session_id == kept


def test_a_deactivated_account_is_refused_until_it_is_active_again(revocations):
    revocations.apply(updated(active=False))
    with pytest.raises(InvalidToken, match="deactivated"):
        revocations.admit(principal())

    revocations.apply(updated(active=True, at=T0 + timedelta(seconds=5)))
    assert revocations.admit(principal(issued_at=T0 + timedelta(seconds=6)))


def test_a_deleted_account_is_refused_and_a_late_update_does_not_bring_it_back(revocations):
    revocations.apply(identity.UserDeleted(event_id=new_id(), occurred_at=T0, user_id=USER))
    revocations.apply(updated(at=T0 + timedelta(seconds=1)))

    with pytest.raises(InvalidToken, match="deleted"):
        revocations.admit(principal())


def test_a_token_issued_before_a_demotion_gets_the_new_role(revocations):
    revocations.apply(updated(role="user", at=T0 + timedelta(seconds=3)))

    admitted = revocations.admit(principal(role="admin"))

    assert (admitted.role, admitted.is_admin) == ("user", False)
    assert admitted.session_id == SESSION


def test_a_token_issued_before_a_promotion_gets_the_new_role(revocations):
    revocations.apply(updated(role="admin", at=T0 + timedelta(seconds=3)))

    assert revocations.admit(principal(role="user")).role == "admin"


def test_a_token_issued_in_the_second_of_the_change_gets_the_changed_role(revocations):
    revocations.apply(updated(role="user", at=T0 + timedelta(milliseconds=700)))

    assert revocations.admit(principal(role="admin", issued_at=T0)).role == "user"


def test_a_token_issued_after_the_last_known_change_keeps_its_own_newer_role(revocations):
    revocations.apply(updated(role="admin", at=T0))

    later = principal(role="user", issued_at=T0 + timedelta(seconds=2))
    assert revocations.admit(later).role == "user"


def test_a_token_living_longer_than_revocations_are_kept_is_refused(revocations):
    with pytest.raises(InvalidToken, match="lifetime"):
        revocations.admit(principal(lifetime=MAX_TOKEN_LIFETIME + timedelta(seconds=1)))
    assert revocations.admit(principal(lifetime=MAX_TOKEN_LIFETIME))


def test_what_happened_before_the_retention_is_forgotten_and_the_rest_kept(revocations):
    old, recent = new_id(), new_id()
    for session_id, at in ((old, T0), (recent, T0 + timedelta(minutes=30))):
        revocations.apply(
            identity.SessionRevoked(
                event_id=new_id(),
                occurred_at=at,
                session_id=session_id,
                user_id=USER,
                reason="logout",
                revoked_at=at,
            )
        )
    revocations.apply(updated(active=False, at=T0))

    forgotten = revocations.forget_before(T0 + RETENTION + timedelta(seconds=1))

    assert forgotten == 2
    assert len(revocations) == 1
    with pytest.raises(InvalidToken):
        revocations.admit(principal(session_id=recent, issued_at=T0 + timedelta(minutes=29)))


def test_events_of_no_concern_change_nothing(revocations):
    revocations.apply(
        identity.UserRegistered(
            event_id=new_id(), occurred_at=T0, user_id=USER, email="a@b.org", role="admin"
        )
    )

    assert len(revocations) == 0


def test_kept_as_long_as_the_verifiers_longest_token_can_be_accepted():
    state = Revocations.for_lifetime(timedelta(minutes=15))
    state.caught_up = True

    assert timedelta(minutes=15) < state.retention <= timedelta(minutes=20)
    assert state.admit(principal(lifetime=timedelta(minutes=15))).session_id == SESSION
    with pytest.raises(InvalidToken, match="lifetime"):
        state.admit(principal(lifetime=timedelta(minutes=30)))
