"""Refresh-token rotation, reuse detection, logout and session revocation, through fakes."""

from datetime import timedelta

import pytest
from services.identity.tests.unit.fakes import fake_identity

from identity.application.errors import InvalidRefreshToken
from identity.application.login import LogIn
from identity.application.policy import Policy
from identity.application.refresh import LogOut, Refresh
from identity.application.registration import Register
from identity.application.sessions import (
    RevokeOtherSessions,
    RevokeSession,
)
from identity.domain.sessions import RevokeReason
from shared.kernel.errors import NotFound
from shared.kernel.ids import new_id

PASSWORD = "correct horse battery staple"


@pytest.fixture
async def user(uow, fakes):
    return await fakes.use.register(Register(email="ada@example.org", password=PASSWORD), uow)


async def login(uow, fakes):
    return await fakes.use.log_in(LogIn(email="ada@example.org", password=PASSWORD), uow)


async def test_a_refresh_spends_the_token_and_issues_the_next_of_the_same_session(uow, fakes, user, clock):
    first = await login(uow, fakes)
    clock.current += timedelta(minutes=10)

    second = await fakes.use.refresh(Refresh(refresh_token=first.refresh_token), uow)

    assert second.session_id == first.session_id
    assert second.refresh_token != first.refresh_token
    assert uow.refresh_tokens.rows[fakes.secrets.digest(first.refresh_token)].spent_at == clock.now()
    assert uow.sessions.rows[first.session_id].last_used_at == clock.now()


async def test_reusing_a_spent_token_revokes_the_whole_session(uow, fakes, user):
    first = await login(uow, fakes)
    second = await fakes.use.refresh(Refresh(refresh_token=first.refresh_token), uow)

    with pytest.raises(InvalidRefreshToken):
        await fakes.use.refresh(Refresh(refresh_token=first.refresh_token), uow)
    with pytest.raises(InvalidRefreshToken):
        await fakes.use.refresh(Refresh(refresh_token=second.refresh_token), uow)

    assert uow.sessions.rows[first.session_id].revoke_reason is RevokeReason.REFRESH_REUSE
    assert uow.audit.kinds().count("refresh_reuse_detected") == 1


async def test_an_unknown_token_is_refused_and_changes_nothing(uow, fakes, user):
    await login(uow, fakes)
    commits = uow.commits

    with pytest.raises(InvalidRefreshToken):
        await fakes.use.refresh(Refresh(refresh_token="never-issued"), uow)
    assert uow.commits == commits


async def test_a_session_idle_too_long_cannot_be_refreshed(uow, fakes, user, clock):
    pair = await login(uow, fakes)
    clock.current += fakes.policy.sessions.idle

    with pytest.raises(InvalidRefreshToken):
        await fakes.use.refresh(Refresh(refresh_token=pair.refresh_token), uow)


async def test_no_session_outlives_its_absolute_lifetime_however_active(uow, fakes, user, clock):
    pair = await login(uow, fakes)
    for days in (6, 6, 6, 6, 5):  # refreshed well within the idle limit each time, 29 days in all
        clock.current += timedelta(days=days)
        pair = await fakes.use.refresh(Refresh(refresh_token=pair.refresh_token), uow)
    clock.current += timedelta(days=1)

    with pytest.raises(InvalidRefreshToken):
        await fakes.use.refresh(Refresh(refresh_token=pair.refresh_token), uow)


async def test_a_deactivated_account_cannot_refresh(uow, fakes, user):
    pair = await login(uow, fakes)
    uow.users.rows[user.id].is_active = False

    with pytest.raises(InvalidRefreshToken):
        await fakes.use.refresh(Refresh(refresh_token=pair.refresh_token), uow)


async def test_logout_revokes_the_session_and_is_idempotent(uow, fakes, user):
    pair = await login(uow, fakes)

    await fakes.use.log_out(LogOut(refresh_token=pair.refresh_token), uow)
    await fakes.use.log_out(LogOut(refresh_token=pair.refresh_token), uow)
    await fakes.use.log_out(LogOut(refresh_token="unknown"), uow)

    assert uow.sessions.rows[pair.session_id].revoke_reason is RevokeReason.LOGOUT
    assert uow.audit.kinds().count("logout") == 1
    with pytest.raises(InvalidRefreshToken):
        await fakes.use.refresh(Refresh(refresh_token=pair.refresh_token), uow)


async def test_a_user_revokes_their_own_session_but_cannot_see_anyone_elses(uow, fakes, user, clock):
    pair = await login(uow, fakes)
    stranger = new_id()

    with pytest.raises(NotFound):
        await fakes.use.revoke_session(RevokeSession(user_id=stranger, session_id=pair.session_id), uow)
    with pytest.raises(NotFound):
        await fakes.use.revoke_session(RevokeSession(user_id=user.id, session_id=new_id()), uow)
    assert uow.sessions.rows[pair.session_id].revoked_at is None

    await fakes.use.revoke_session(RevokeSession(user_id=user.id, session_id=pair.session_id), uow)
    await fakes.use.revoke_session(RevokeSession(user_id=user.id, session_id=pair.session_id), uow)
    assert uow.sessions.rows[pair.session_id].revoke_reason is RevokeReason.REVOKED_BY_USER


async def test_revoking_the_other_sessions_keeps_the_current_one(uow, fakes, user, clock):
    current, *others = [await login(uow, fakes) for _ in range(3)]

    count = await fakes.use.revoke_other_sessions(
        RevokeOtherSessions(user_id=user.id, current_session_id=current.session_id), uow
    )

    assert count == 2
    assert uow.sessions.rows[current.session_id].revoked_at is None
    assert all(uow.sessions.rows[o.session_id].revoked_at is not None for o in others)


async def test_a_login_beyond_the_session_limit_ends_the_least_recently_used_session(uow, user, clock):
    fakes = fake_identity(clock, policy=Policy(public_url="https://id.example", max_sessions=3))
    pairs = []
    for _ in range(5):
        pairs.append(await fakes.use.log_in(LogIn(email="ada@example.org", password=PASSWORD), uow))
        clock.current += timedelta(minutes=1)

    live = [s for s in uow.sessions.rows.values() if s.revoked_at is None]
    ended = [s for s in uow.sessions.rows.values() if s.revoked_at is not None]
    assert {s.id for s in live} == {p.session_id for p in pairs[2:]}
    assert {s.id for s in ended} == {p.session_id for p in pairs[:2]}
    assert {s.revoke_reason for s in ended} == {RevokeReason.SESSION_LIMIT}
