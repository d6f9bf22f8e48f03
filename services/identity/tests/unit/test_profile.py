"""One's own account: name, password change, deletion, through fakes."""

import pytest

from identity.application.errors import InvalidCredentials, NoPassword, TooManyAttempts, WrongPassword
from identity.application.login import LogIn
from identity.application.password_reset import RequestPasswordReset
from identity.application.profile import (
    ChangePassword,
    DeleteAccount,
    UpdateProfile,
)
from identity.application.registration import Register
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.events import UserDeleted, UserUpdated
from identity.domain.oidc_links import OidcLink
from identity.domain.passwords import WeakPassword
from identity.domain.sessions import ClientInfo, RevokeReason

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def user(uow, fakes):
    user = await fakes.use.register(Register(email="ada@example.org", password=PASSWORD, name="Ada"), uow)
    uow.published.clear()
    return user


async def login(uow, fakes, password=PASSWORD):
    return await fakes.use.log_in(LogIn(email="ada@example.org", password=password), uow)


async def test_renaming_publishes_an_update_and_renaming_to_the_same_publishes_nothing(uow, fakes, user):
    await fakes.use.update_profile(UpdateProfile(user_id=user.id, name="Ada L."), uow)
    await fakes.use.update_profile(UpdateProfile(user_id=user.id, name="Ada  L."), uow)

    assert uow.published == [
        UserUpdated(
            occurred_at=fakes.clock.now(), user_id=user.id, name="Ada L.", role="user", is_active=True
        )
    ]


async def test_changing_the_password_revokes_every_other_session(uow, fakes, user):
    current, other = await login(uow, fakes), await login(uow, fakes)

    await fakes.use.change_password(
        ChangePassword(
            user_id=user.id,
            session_id=current.session_id,
            current_password=PASSWORD,
            new_password=NEW_PASSWORD,
        ),
        uow,
    )

    assert uow.sessions.rows[current.session_id].revoked_at is None
    assert uow.sessions.rows[other.session_id].revoke_reason is RevokeReason.PASSWORD_CHANGED
    assert uow.users.rows[user.id].password_hash == f"hash:v1:{NEW_PASSWORD}"
    assert uow.audit.entries[-1].kind is AuditKind.PASSWORD_CHANGED
    await login(uow, fakes, NEW_PASSWORD)


async def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failure(uow, fakes, user):
    current = await login(uow, fakes)
    command = ChangePassword(
        user_id=user.id,
        session_id=current.session_id,
        current_password="not it at all",
        new_password=NEW_PASSWORD,
    )

    with pytest.raises(WrongPassword):
        await fakes.use.change_password(command, uow)

    assert uow.users.rows[user.id].password_hash == f"hash:v1:{PASSWORD}"
    assert uow.audit.entries[-1].details == {"reason": "wrong_password", "during": "password_change"}
    for _ in range(9):
        with pytest.raises(WrongPassword):
            await fakes.use.change_password(command, uow)
    with pytest.raises(TooManyAttempts):
        await fakes.use.change_password(command, uow)


async def test_a_weak_new_password_is_refused_before_the_current_one_is_checked(uow, fakes, user):
    fakes.hasher.calls.clear()

    with pytest.raises(WeakPassword):
        await fakes.use.change_password(
            ChangePassword(
                user_id=user.id, session_id=user.id, current_password=PASSWORD, new_password="short"
            ),
            uow,
        )
    assert fakes.hasher.calls == []


async def test_an_account_without_a_password_must_set_one_by_reset(uow, fakes, user):
    uow.users.rows[user.id].password_hash = None

    with pytest.raises(NoPassword):
        await fakes.use.delete_account(DeleteAccount(user_id=user.id, password=PASSWORD), uow)


async def test_deletion_erases_the_account_and_anonymises_its_audit_trail(uow, fakes, user):
    pair = await login(uow, fakes)
    await uow.oidc_links.add(
        OidcLink(provider="google", subject="1", user_id=user.id, created_at=fakes.clock.now())
    )
    await uow.audit.record(
        AuditEntry.record(AuditKind.ROLE_CHANGED, at=fakes.clock.now(), user_id=None, actor_id=user.id)
    )

    await fakes.use.delete_account(
        DeleteAccount(user_id=user.id, password=PASSWORD, client=ClientInfo.of("1.2.3.4", "x")), uow
    )

    assert user.id not in uow.users.rows
    assert uow.published == [UserDeleted(occurred_at=fakes.clock.now(), user_id=user.id)]
    assert all(e.user_id != user.id and e.actor_id != user.id for e in uow.audit.entries)
    assert all(e.ip is None for e in uow.audit.entries)
    assert uow.audit.entries[-1].kind is AuditKind.USER_DELETED
    assert pair.session_id in uow.sessions.rows  # the database cascades; the fake only forgets the user


async def test_deletion_forgets_the_attempts_counted_under_the_address(uow, fakes, user):
    with pytest.raises(InvalidCredentials):
        await fakes.use.log_in(LogIn(email=user.email, password="not the password"), uow)
    await fakes.use.request_password_reset(RequestPasswordReset(email=user.email), uow)
    assert uow.attempts.rows

    await fakes.use.delete_account(DeleteAccount(user_id=user.id, password=PASSWORD), uow)

    assert uow.attempts.rows == []


async def test_deletion_with_a_wrong_password_erases_nothing(uow, fakes, user):
    with pytest.raises(WrongPassword):
        await fakes.use.delete_account(DeleteAccount(user_id=user.id, password="not it at all"), uow)

    assert user.id in uow.users.rows
    assert uow.published == []
