"""Every way a session ends early is told to the other services, as the unit of work commits.

chat and orchestrator verify access tokens locally; these events are what makes them refuse a
revoked session's tokens (``shared.auth.revocations``) before the tokens expire.
"""

import re
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from services.identity.tests.unit.fakes import fake_identity

from identity.adapters.messaging.translators import to_contract
from identity.application.admin import ChangeUser
from identity.application.errors import InvalidRefreshToken
from identity.application.login import LogIn
from identity.application.password_reset import RequestPasswordReset, ResetPassword
from identity.application.profile import ChangePassword
from identity.application.refresh import LogOut, Refresh
from identity.application.registration import Register
from identity.application.sessions import RevokeOtherSessions, RevokeSession
from identity.domain.sessions import BulkRevocation, RevokeReason, SessionRevoked, SessionsRevoked
from shared.contracts import identity as contracts
from shared.kernel.ids import new_id

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


@pytest.fixture
async def user(uow, fakes):
    return await fakes.use.register(Register(email="ada@example.org", password=PASSWORD), uow)


async def login(uow, fakes):
    return await fakes.use.log_in(LogIn(email="ada@example.org", password=PASSWORD), uow)


def token_in(mail) -> str:
    return re.search(r"#token=([\w-]+)", mail.text).group(1)


def revocations(uow, since=0):
    return [e for e in uow.published[since:] if isinstance(e, SessionRevoked | SessionsRevoked)]


async def test_logout_publishes_the_session_revoked_once(uow, fakes, user):
    pair = await login(uow, fakes)

    await fakes.use.log_out(LogOut(refresh_token=pair.refresh_token), uow)
    await fakes.use.log_out(LogOut(refresh_token=pair.refresh_token), uow)

    assert revocations(uow) == [
        SessionRevoked(
            occurred_at=fakes.clock.now(),
            session_id=pair.session_id,
            user_id=user.id,
            reason=RevokeReason.LOGOUT,
        )
    ]


async def test_revoking_one_session_publishes_it(uow, fakes, user):
    pair = await login(uow, fakes)

    await fakes.use.revoke_session(RevokeSession(user_id=user.id, session_id=pair.session_id), uow)

    [event] = revocations(uow)
    assert (event.session_id, event.reason) == (pair.session_id, RevokeReason.REVOKED_BY_USER)


async def test_refresh_token_reuse_publishes_the_revoked_session(uow, fakes, user):
    pair = await login(uow, fakes)
    await fakes.use.refresh(Refresh(refresh_token=pair.refresh_token), uow)

    with pytest.raises(InvalidRefreshToken):
        await fakes.use.refresh(Refresh(refresh_token=pair.refresh_token), uow)

    [event] = revocations(uow)
    assert (event.session_id, event.reason) == (pair.session_id, RevokeReason.REFRESH_REUSE)


async def test_revoking_the_others_names_exactly_them(uow, fakes, user):
    current, other, another = [await login(uow, fakes) for _ in range(3)]

    await fakes.use.revoke_other_sessions(
        RevokeOtherSessions(user_id=user.id, current_session_id=current.session_id), uow
    )

    [event] = revocations(uow)
    assert isinstance(event, SessionsRevoked)
    assert set(event.session_ids) == {other.session_id, another.session_id}
    assert (event.user_id, event.reason) == (user.id, RevokeReason.REVOKED_BY_USER)


async def test_a_password_change_names_every_session_but_the_current_one(uow, fakes, user):
    current, other = await login(uow, fakes), await login(uow, fakes)
    command = ChangePassword(
        user_id=user.id, session_id=current.session_id, current_password=PASSWORD, new_password=NEW_PASSWORD
    )

    await fakes.use.change_password(command, uow)

    [event] = revocations(uow)
    assert (event.session_ids, event.reason) == ((other.session_id,), RevokeReason.PASSWORD_CHANGED)


async def test_a_password_reset_names_every_session(uow, fakes, user):
    first, second = await login(uow, fakes), await login(uow, fakes)
    await fakes.use.request_password_reset(RequestPasswordReset(email=user.email), uow)
    since = len(uow.published)

    await fakes.use.reset_password(
        ResetPassword(token=token_in(fakes.mailer.sent[-1]), new_password=NEW_PASSWORD), uow
    )

    [event] = revocations(uow, since)
    assert set(event.session_ids) == {first.session_id, second.session_id}
    assert event.reason is RevokeReason.PASSWORD_RESET


async def test_the_session_limit_names_the_session_it_ends(uow, clock):
    fakes = fake_identity(clock)
    fakes.policy = replace(fakes.policy, max_sessions=2)
    await fakes.use.register(Register(email="ada@example.org", password=PASSWORD), uow)
    oldest = await login(uow, fakes)
    clock.current = clock.current.replace(second=10)
    await login(uow, fakes)
    assert revocations(uow) == []
    clock.current = clock.current.replace(second=20)

    await login(uow, fakes)

    [event] = revocations(uow)
    assert (event.session_ids, event.reason) == ((oldest.session_id,), RevokeReason.SESSION_LIMIT)


async def test_deactivation_names_every_session_beside_the_account_update(uow, fakes, user):
    pair = await login(uow, fakes)

    await fakes.use.change_user(ChangeUser(actor_id=new_id(), user_id=user.id, is_active=False), uow)

    [event] = revocations(uow)
    assert (event.session_ids, event.reason) == ((pair.session_id,), RevokeReason.DEACTIVATED)


async def test_a_bulk_statement_that_revoked_nothing_tells_nothing():
    assert BulkRevocation.of(new_id(), [], reason=RevokeReason.SESSION_LIMIT, now=NOW).pull_events() == []


def test_revocations_become_their_public_contracts():
    session_id, user_id, other_id = new_id(), new_id(), new_id()
    one = to_contract(
        SessionRevoked(occurred_at=NOW, session_id=session_id, user_id=user_id, reason=RevokeReason.LOGOUT)
    )
    many = to_contract(
        SessionsRevoked(
            occurred_at=NOW,
            user_id=user_id,
            session_ids=(session_id, other_id),
            reason=RevokeReason.SESSION_LIMIT,
        )
    )

    assert one == contracts.SessionRevoked(
        event_id=one.event_id,
        occurred_at=NOW,
        session_id=session_id,
        user_id=user_id,
        reason="logout",
        revoked_at=NOW,
    )
    assert many == contracts.UserSessionsRevoked(
        event_id=many.event_id,
        occurred_at=NOW,
        user_id=user_id,
        session_ids=[session_id, other_id],
        reason="session_limit",
        revoked_at=NOW,
    )
