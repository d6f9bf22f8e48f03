"""Refresh-token rotation, reuse detection, logout and session revocation, through fakes."""

from datetime import timedelta

import pytest
from services.identity.tests.unit.fakes import fake_services

from identity.application.errors import InvalidRefreshToken
from identity.application.login import LogIn, log_in
from identity.application.refresh import LogOut, Refresh, log_out, refresh
from identity.application.registration import Register, register
from identity.application.services import Policy
from identity.application.sessions import (
    RevokeOtherSessions,
    RevokeSession,
    revoke_other_sessions,
    revoke_session,
)
from identity.domain.sessions import RevokeReason
from shared.kernel.errors import NotFound
from shared.kernel.ids import new_id

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def user(uow, services):
    return await register(Register(email="ada@example.org", password=PASSWORD), uow, services)


async def login(uow, services):
    return await log_in(LogIn(email="ada@example.org", password=PASSWORD), uow, services)


async def test_a_refresh_spends_the_token_and_issues_the_next_of_the_same_session(uow, services, user, clock):
    first = await login(uow, services)
    clock.current += timedelta(minutes=10)

    second = await refresh(Refresh(refresh_token=first.refresh_token), uow, services)

    assert second.session_id == first.session_id
    assert second.refresh_token != first.refresh_token
    assert uow.refresh_tokens.rows[services.secrets.digest(first.refresh_token)].spent_at == clock.now()
    assert uow.sessions.rows[first.session_id].last_used_at == clock.now()


async def test_reusing_a_spent_token_revokes_the_whole_session(uow, services, user):
    first = await login(uow, services)
    second = await refresh(Refresh(refresh_token=first.refresh_token), uow, services)

    with pytest.raises(InvalidRefreshToken):
        await refresh(Refresh(refresh_token=first.refresh_token), uow, services)
    with pytest.raises(InvalidRefreshToken):
        await refresh(Refresh(refresh_token=second.refresh_token), uow, services)

    assert uow.sessions.rows[first.session_id].revoke_reason is RevokeReason.REFRESH_REUSE
    assert uow.audit.kinds().count("refresh_reuse_detected") == 1


async def test_an_unknown_token_is_refused_and_changes_nothing(uow, services, user):
    await login(uow, services)
    commits = uow.commits

    with pytest.raises(InvalidRefreshToken):
        await refresh(Refresh(refresh_token="never-issued"), uow, services)
    assert uow.commits == commits


async def test_a_session_idle_too_long_cannot_be_refreshed(uow, services, user, clock):
    pair = await login(uow, services)
    clock.current += services.policy.sessions.idle

    with pytest.raises(InvalidRefreshToken):
        await refresh(Refresh(refresh_token=pair.refresh_token), uow, services)


async def test_no_session_outlives_its_absolute_lifetime_however_active(uow, services, user, clock):
    pair = await login(uow, services)
    for days in (6, 6, 6, 6, 5):  # refreshed well within the idle limit each time, 29 days in all
        clock.current += timedelta(days=days)
        pair = await refresh(Refresh(refresh_token=pair.refresh_token), uow, services)
    clock.current += timedelta(days=1)

    with pytest.raises(InvalidRefreshToken):
        await refresh(Refresh(refresh_token=pair.refresh_token), uow, services)


async def test_a_deactivated_account_cannot_refresh(uow, services, user):
    pair = await login(uow, services)
    uow.users.rows[user.id].is_active = False

    with pytest.raises(InvalidRefreshToken):
        await refresh(Refresh(refresh_token=pair.refresh_token), uow, services)


async def test_logout_revokes_the_session_and_is_idempotent(uow, services, user):
    pair = await login(uow, services)

    await log_out(LogOut(refresh_token=pair.refresh_token), uow, services)
    await log_out(LogOut(refresh_token=pair.refresh_token), uow, services)
    await log_out(LogOut(refresh_token="unknown"), uow, services)

    assert uow.sessions.rows[pair.session_id].revoke_reason is RevokeReason.LOGOUT
    assert uow.audit.kinds().count("logout") == 1
    with pytest.raises(InvalidRefreshToken):
        await refresh(Refresh(refresh_token=pair.refresh_token), uow, services)


async def test_a_user_revokes_their_own_session_but_cannot_see_anyone_elses(uow, services, user, clock):
    pair = await login(uow, services)
    stranger = new_id()

    with pytest.raises(NotFound):
        await revoke_session(RevokeSession(user_id=stranger, session_id=pair.session_id), uow, clock)
    with pytest.raises(NotFound):
        await revoke_session(RevokeSession(user_id=user.id, session_id=new_id()), uow, clock)
    assert uow.sessions.rows[pair.session_id].revoked_at is None

    await revoke_session(RevokeSession(user_id=user.id, session_id=pair.session_id), uow, clock)
    await revoke_session(RevokeSession(user_id=user.id, session_id=pair.session_id), uow, clock)
    assert uow.sessions.rows[pair.session_id].revoke_reason is RevokeReason.REVOKED_BY_USER


async def test_revoking_the_other_sessions_keeps_the_current_one(uow, services, user, clock):
    current, *others = [await login(uow, services) for _ in range(3)]

    count = await revoke_other_sessions(
        RevokeOtherSessions(user_id=user.id, current_session_id=current.session_id), uow, clock
    )

    assert count == 2
    assert uow.sessions.rows[current.session_id].revoked_at is None
    assert all(uow.sessions.rows[o.session_id].revoked_at is not None for o in others)


async def test_a_login_beyond_the_session_limit_ends_the_least_recently_used_session(uow, user, clock):
    services = fake_services(clock, policy=Policy(public_url="https://id.example", max_sessions=3))
    pairs = []
    for _ in range(5):
        pairs.append(await log_in(LogIn(email="ada@example.org", password=PASSWORD), uow, services))
        clock.current += timedelta(minutes=1)

    live = [s for s in uow.sessions.rows.values() if s.revoked_at is None]
    ended = [s for s in uow.sessions.rows.values() if s.revoked_at is not None]
    assert {s.id for s in live} == {p.session_id for p in pairs[2:]}
    assert {s.id for s in ended} == {p.session_id for p in pairs[:2]}
    assert {s.revoke_reason for s in ended} == {RevokeReason.SESSION_LIMIT}
