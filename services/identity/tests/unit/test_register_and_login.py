"""Sign-up and login use cases, through fakes."""

from datetime import timedelta

import pytest
from services.identity.tests.unit.fakes import FakeHasher

from identity.application.errors import InvalidCredentials, TooManyAttempts
from identity.application.login import LogIn
from identity.application.ports import EmailTaken
from identity.application.registration import Register
from identity.domain.emails import InvalidEmail
from identity.domain.events import UserRegistered
from identity.domain.passwords import WeakPassword
from identity.domain.sessions import ClientInfo

PASSWORD = "correct horse battery staple"
CLIENT = ClientInfo.of("10.0.0.7", "tests")


async def registered(uow, fakes, email="ada@example.org"):
    return await fakes.use.register(Register(email=email, password=PASSWORD, name="Ada"), uow)


# -- register -------------------------------------------------------------------------------------


async def test_registering_stores_a_hash_of_the_password_and_publishes_the_registration(uow, fakes):
    user = await fakes.use.register(Register(email=" Ada@Example.ORG ", password=PASSWORD, name=" Ada "), uow)

    stored = uow.users.rows[user.id]
    assert (stored.email, stored.name, stored.role) == ("Ada@example.org", "Ada", "user")
    assert stored.password_hash == f"hash:v1:{PASSWORD}"
    assert uow.published == [
        UserRegistered(
            occurred_at=fakes.clock.now(),
            user_id=user.id,
            email="Ada@example.org",
            name="Ada",
            role="user",
        )
    ]
    assert uow.audit.kinds() == ["user_registered"]


async def test_a_second_account_for_the_same_address_in_any_case_is_refused(uow, fakes):
    await registered(uow, fakes, "ada@example.org")

    with pytest.raises(EmailTaken):
        await registered(uow, fakes, "ADA@example.org")
    assert len(uow.users.rows) == 1
    assert len(uow.published) == 1


async def test_a_weak_password_is_refused_with_its_reason_before_anything_is_hashed(uow, fakes):
    with pytest.raises(WeakPassword, match="too common"):
        await fakes.use.register(Register(email="ada@example.org", password="password123"), uow)
    assert fakes.hasher.calls == []
    assert uow.users.rows == {}


async def test_an_invalid_address_is_refused(uow, fakes):
    with pytest.raises(InvalidEmail):
        await fakes.use.register(Register(email="not an address", password=PASSWORD), uow)


# -- login ----------------------------------------------------------------------------------------


async def test_login_opens_a_session_with_a_first_refresh_token(uow, fakes):
    user = await registered(uow, fakes)

    pair = await fakes.use.log_in(LogIn(email="ADA@example.org", password=PASSWORD, client=CLIENT), uow)

    (session,) = uow.sessions.rows.values()
    assert (session.user_id, session.id, session.ip, session.user_agent) == (
        user.id,
        pair.session_id,
        "10.0.0.7",
        "tests",
    )
    (token,) = uow.refresh_tokens.rows.values()
    assert token.digest == fakes.secrets.digest(pair.refresh_token)
    assert token.session_id == session.id
    assert fakes.access_tokens.issued[-1]["session_id"] == session.id
    assert uow.audit.kinds()[-1] == "login_succeeded"


async def test_unknown_address_and_wrong_password_fail_alike_after_a_real_verification(uow, fakes):
    await registered(uow, fakes)
    fakes.hasher.calls.clear()

    for email, password in (("nobody@example.org", PASSWORD), ("ada@example.org", "wrong password!")):
        with pytest.raises(InvalidCredentials) as caught:
            await fakes.use.log_in(LogIn(email=email, password=password), uow)
        assert caught.value.detail == "The email address or the password is wrong."

    assert fakes.hasher.calls == ["verify_dummy", "verify"]
    assert uow.sessions.rows == {}
    assert [e.details["reason"] for e in uow.audit.entries if e.kind == "login_failed"] == [
        "unknown_account",
        "wrong_password",
    ]


async def test_an_account_without_a_password_costs_a_dummy_verification(uow, fakes, clock):
    user = await registered(uow, fakes)
    uow.users.rows[user.id].password_hash = None
    fakes.hasher.calls.clear()

    with pytest.raises(InvalidCredentials):
        await fakes.use.log_in(LogIn(email="ada@example.org", password=PASSWORD), uow)
    assert fakes.hasher.calls == ["verify_dummy"]


async def test_a_deactivated_account_fails_like_a_wrong_password(uow, fakes):
    user = await registered(uow, fakes)
    uow.users.rows[user.id].is_active = False

    with pytest.raises(InvalidCredentials):
        await fakes.use.log_in(LogIn(email="ada@example.org", password=PASSWORD), uow)
    assert uow.sessions.rows == {}


async def test_the_eleventh_failure_for_an_address_is_throttled_without_checking_the_password(uow, fakes):
    await registered(uow, fakes)
    for _ in range(10):
        with pytest.raises(InvalidCredentials):
            await fakes.use.log_in(LogIn(email="ada@example.org", password="wrong password!"), uow)
    fakes.hasher.calls.clear()

    with pytest.raises(TooManyAttempts) as caught:
        await fakes.use.log_in(LogIn(email="ada@example.org", password=PASSWORD), uow)

    assert caught.value.retry_after == 15 * 60
    assert fakes.hasher.calls == []
    assert uow.audit.kinds()[-1] == "login_throttled"


async def test_an_unknown_address_is_throttled_exactly_like_a_known_one(uow, fakes):
    for _ in range(10):
        with pytest.raises(InvalidCredentials):
            await fakes.use.log_in(LogIn(email="nobody@example.org", password=PASSWORD), uow)

    with pytest.raises(TooManyAttempts):
        await fakes.use.log_in(LogIn(email="nobody@example.org", password=PASSWORD), uow)


async def test_the_throttle_lifts_as_failures_leave_the_window(uow, fakes, clock):
    await registered(uow, fakes)
    for _ in range(10):
        with pytest.raises(InvalidCredentials):
            await fakes.use.log_in(LogIn(email="ada@example.org", password="wrong password!"), uow)

    clock.current += timedelta(minutes=15)

    await fakes.use.log_in(LogIn(email="ada@example.org", password=PASSWORD), uow)


async def test_a_client_address_is_throttled_across_accounts_at_its_own_limit(uow, fakes):
    from dataclasses import replace

    from identity.domain.throttling import ThrottlePolicy

    fakes = replace(fakes, policy=replace(fakes.policy, throttle=ThrottlePolicy(per_address=3)))
    for n in range(3):
        with pytest.raises(InvalidCredentials):
            await fakes.use.log_in(LogIn(email=f"user{n}@example.org", password=PASSWORD, client=CLIENT), uow)

    with pytest.raises(TooManyAttempts):
        await fakes.use.log_in(LogIn(email="someone-else@example.org", password=PASSWORD, client=CLIENT), uow)
    # from another address the same account may still try
    with pytest.raises(InvalidCredentials):
        await fakes.use.log_in(LogIn(email="someone-else@example.org", password=PASSWORD), uow)


async def test_a_success_clears_the_failures_of_the_address(uow, fakes):
    await registered(uow, fakes)
    for _ in range(9):
        with pytest.raises(InvalidCredentials):
            await fakes.use.log_in(LogIn(email="ada@example.org", password="wrong password!"), uow)

    await fakes.use.log_in(LogIn(email="ada@example.org", password=PASSWORD), uow)

    for _ in range(10):
        with pytest.raises(InvalidCredentials):
            await fakes.use.log_in(LogIn(email="ada@example.org", password="wrong password!"), uow)


async def test_a_hash_made_with_old_parameters_is_replaced_at_login(uow, fakes):
    from dataclasses import replace

    user = await registered(uow, fakes)
    upgraded = replace(fakes, hasher=FakeHasher(params="v2"))

    await upgraded.use.log_in(LogIn(email="ada@example.org", password=PASSWORD), uow)

    assert uow.users.rows[user.id].password_hash == f"hash:v2:{PASSWORD}"
    assert uow.audit.entries[-1].details["rehashed"] is True


async def test_the_password_is_compared_in_its_normalised_form(uow, fakes):
    await fakes.use.register(Register(email="ada@example.org", password="caf\u00e9 au lait 42"), uow)

    await fakes.use.log_in(LogIn(email="ada@example.org", password="cafe\u0301 au lait 42"), uow)


async def test_no_password_reaches_the_audit_trail(uow, fakes):
    await registered(uow, fakes)
    with pytest.raises(InvalidCredentials):
        await fakes.use.log_in(LogIn(email="ada@example.org", password="hunter2-secret"), uow)
    await fakes.use.log_in(LogIn(email="ada@example.org", password=PASSWORD), uow)

    assert all("hunter2" not in repr(e) and PASSWORD not in repr(e) for e in uow.audit.entries)
