"""Sign-up and login use cases, through fakes."""

from datetime import timedelta

import pytest
from services.identity.tests.unit.fakes import FakeHasher

from identity.application.errors import InvalidCredentials, TooManyAttempts
from identity.application.login import LogIn, log_in
from identity.application.ports import EmailTaken
from identity.application.registration import Register, register
from identity.domain.emails import InvalidEmail
from identity.domain.events import UserRegistered
from identity.domain.passwords import WeakPassword
from identity.domain.sessions import ClientInfo

PASSWORD = "correct horse battery staple"
CLIENT = ClientInfo.of("10.0.0.7", "tests")


async def registered(uow, services, email="ada@example.org"):
    return await register(Register(email=email, password=PASSWORD, name="Ada"), uow, services)


# -- register -------------------------------------------------------------------------------------


async def test_registering_stores_a_hash_of_the_password_and_publishes_the_registration(uow, services):
    user = await register(Register(email=" Ada@Example.ORG ", password=PASSWORD, name=" Ada "), uow, services)

    stored = uow.users.rows[user.id]
    assert (stored.email, stored.name, stored.role) == ("Ada@example.org", "Ada", "user")
    assert stored.password_hash == f"hash:v1:{PASSWORD}"
    assert uow.published == [
        UserRegistered(
            occurred_at=services.clock.now(),
            user_id=user.id,
            email="Ada@example.org",
            name="Ada",
            role="user",
        )
    ]
    assert uow.audit.kinds() == ["user_registered"]


async def test_a_second_account_for_the_same_address_in_any_case_is_refused(uow, services):
    await registered(uow, services, "ada@example.org")

    with pytest.raises(EmailTaken):
        await registered(uow, services, "ADA@example.org")
    assert len(uow.users.rows) == 1
    assert len(uow.published) == 1


async def test_a_weak_password_is_refused_with_its_reason_before_anything_is_hashed(uow, services):
    with pytest.raises(WeakPassword, match="too common"):
        await register(Register(email="ada@example.org", password="password123"), uow, services)
    assert services.hasher.calls == []
    assert uow.users.rows == {}


async def test_an_invalid_address_is_refused(uow, services):
    with pytest.raises(InvalidEmail):
        await register(Register(email="not an address", password=PASSWORD), uow, services)


# -- login ----------------------------------------------------------------------------------------


async def test_login_opens_a_session_with_a_first_refresh_token(uow, services):
    user = await registered(uow, services)

    pair = await log_in(LogIn(email="ADA@example.org", password=PASSWORD, client=CLIENT), uow, services)

    (session,) = uow.sessions.rows.values()
    assert (session.user_id, session.id, session.ip, session.user_agent) == (
        user.id,
        pair.session_id,
        "10.0.0.7",
        "tests",
    )
    (token,) = uow.refresh_tokens.rows.values()
    assert token.digest == services.secrets.digest(pair.refresh_token)
    assert token.session_id == session.id
    assert services.access_tokens.issued[-1]["session_id"] == session.id
    assert uow.audit.kinds()[-1] == "login_succeeded"


async def test_unknown_address_and_wrong_password_fail_alike_after_a_real_verification(uow, services):
    await registered(uow, services)
    services.hasher.calls.clear()

    for email, password in (("nobody@example.org", PASSWORD), ("ada@example.org", "wrong password!")):
        with pytest.raises(InvalidCredentials) as caught:
            await log_in(LogIn(email=email, password=password), uow, services)
        assert caught.value.detail == "The email address or the password is wrong."

    assert services.hasher.calls == ["verify_dummy", "verify"]
    assert uow.sessions.rows == {}
    assert [e.details["reason"] for e in uow.audit.entries if e.kind == "login_failed"] == [
        "unknown_account",
        "wrong_password",
    ]


async def test_an_account_without_a_password_costs_a_dummy_verification(uow, services, clock):
    user = await registered(uow, services)
    uow.users.rows[user.id].password_hash = None
    services.hasher.calls.clear()

    with pytest.raises(InvalidCredentials):
        await log_in(LogIn(email="ada@example.org", password=PASSWORD), uow, services)
    assert services.hasher.calls == ["verify_dummy"]


async def test_a_deactivated_account_fails_like_a_wrong_password(uow, services):
    user = await registered(uow, services)
    uow.users.rows[user.id].is_active = False

    with pytest.raises(InvalidCredentials):
        await log_in(LogIn(email="ada@example.org", password=PASSWORD), uow, services)
    assert uow.sessions.rows == {}


async def test_the_eleventh_failure_for_an_address_is_throttled_without_checking_the_password(uow, services):
    await registered(uow, services)
    for _ in range(10):
        with pytest.raises(InvalidCredentials):
            await log_in(LogIn(email="ada@example.org", password="wrong password!"), uow, services)
    services.hasher.calls.clear()

    with pytest.raises(TooManyAttempts) as caught:
        await log_in(LogIn(email="ada@example.org", password=PASSWORD), uow, services)

    assert caught.value.retry_after == 15 * 60
    assert services.hasher.calls == []
    assert uow.audit.kinds()[-1] == "login_throttled"


async def test_an_unknown_address_is_throttled_exactly_like_a_known_one(uow, services):
    for _ in range(10):
        with pytest.raises(InvalidCredentials):
            await log_in(LogIn(email="nobody@example.org", password=PASSWORD), uow, services)

    with pytest.raises(TooManyAttempts):
        await log_in(LogIn(email="nobody@example.org", password=PASSWORD), uow, services)


async def test_the_throttle_lifts_as_failures_leave_the_window(uow, services, clock):
    await registered(uow, services)
    for _ in range(10):
        with pytest.raises(InvalidCredentials):
            await log_in(LogIn(email="ada@example.org", password="wrong password!"), uow, services)

    clock.current += timedelta(minutes=15)

    await log_in(LogIn(email="ada@example.org", password=PASSWORD), uow, services)


async def test_a_client_address_is_throttled_across_accounts_at_its_own_limit(uow, services):
    from dataclasses import replace

    from identity.domain.throttling import ThrottlePolicy

    services = replace(services, policy=replace(services.policy, throttle=ThrottlePolicy(per_address=3)))
    for n in range(3):
        with pytest.raises(InvalidCredentials):
            await log_in(LogIn(email=f"user{n}@example.org", password=PASSWORD, client=CLIENT), uow, services)

    with pytest.raises(TooManyAttempts):
        await log_in(LogIn(email="someone-else@example.org", password=PASSWORD, client=CLIENT), uow, services)
    # from another address the same account may still try
    with pytest.raises(InvalidCredentials):
        await log_in(LogIn(email="someone-else@example.org", password=PASSWORD), uow, services)


async def test_a_success_clears_the_failures_of_the_address(uow, services):
    await registered(uow, services)
    for _ in range(9):
        with pytest.raises(InvalidCredentials):
            await log_in(LogIn(email="ada@example.org", password="wrong password!"), uow, services)

    await log_in(LogIn(email="ada@example.org", password=PASSWORD), uow, services)

    for _ in range(10):
        with pytest.raises(InvalidCredentials):
            await log_in(LogIn(email="ada@example.org", password="wrong password!"), uow, services)


async def test_a_hash_made_with_old_parameters_is_replaced_at_login(uow, services):
    from dataclasses import replace

    user = await registered(uow, services)
    upgraded = replace(services, hasher=FakeHasher(params="v2"))

    await log_in(LogIn(email="ada@example.org", password=PASSWORD), uow, upgraded)

    assert uow.users.rows[user.id].password_hash == f"hash:v2:{PASSWORD}"
    assert uow.audit.entries[-1].details["rehashed"] is True


async def test_the_password_is_compared_in_its_normalised_form(uow, services):
    await register(Register(email="ada@example.org", password="caf\u00e9 au lait 42"), uow, services)

    await log_in(LogIn(email="ada@example.org", password="cafe\u0301 au lait 42"), uow, services)


async def test_no_password_reaches_the_audit_trail(uow, services):
    await registered(uow, services)
    with pytest.raises(InvalidCredentials):
        await log_in(LogIn(email="ada@example.org", password="hunter2-secret"), uow, services)
    await log_in(LogIn(email="ada@example.org", password=PASSWORD), uow, services)

    assert all("hunter2" not in repr(e) and PASSWORD not in repr(e) for e in uow.audit.entries)
