"""Password reset and email verification, through fakes."""

import re
from datetime import timedelta

import pytest

from identity.application.email_verification import (
    RequestEmailVerification,
    VerifyEmail,
    request_email_verification,
    verify_email,
)
from identity.application.errors import InvalidOneTimeToken, TooManyAttempts
from identity.application.login import LogIn, log_in
from identity.application.password_reset import (
    RequestPasswordReset,
    ResetPassword,
    request_password_reset,
    reset_password,
)
from identity.application.registration import Register, register
from identity.application.throttle import admit_mail_request
from identity.domain.passwords import WeakPassword
from identity.domain.sessions import ClientInfo, RevokeReason
from identity.domain.throttling import ThrottlePolicy
from shared.kernel.errors import Conflict

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def user(uow, services):
    return await register(Register(email="Ada@example.org", password=PASSWORD), uow, services)


def token_in(mail) -> str:
    return re.search(r"#token=([\w-]+)", mail.text).group(1)


async def requested(uow, services, email="ada@example.org") -> str:
    await request_password_reset(RequestPasswordReset(email=email), uow, services)
    return token_in(services.mailer.sent[-1])


async def test_a_reset_link_is_mailed_to_the_stored_address_and_only_its_digest_kept(uow, services, user):
    token = await requested(uow, services, "ADA@EXAMPLE.ORG")

    (mail,) = services.mailer.sent
    assert mail.to == "Ada@example.org"
    assert "https://id.example/reset-password#token=" in mail.text
    assert "15 minutes" in mail.text
    (stored,) = uow.one_time_tokens.rows.values()
    assert stored.digest == services.secrets.digest(token)
    assert stored.expires_at == services.clock.now() + timedelta(minutes=15)


async def test_an_unknown_address_gets_no_mail_but_the_same_audit_and_commit(uow, services, user):
    await request_password_reset(RequestPasswordReset(email="nobody@example.org"), uow, services)
    await request_password_reset(RequestPasswordReset(email="not even an address"), uow, services)

    assert services.mailer.sent == []
    assert uow.audit.kinds().count("password_reset_requested") == 2
    assert uow.commits == 3  # the registration, then one per request


async def test_a_new_request_replaces_the_previous_link(uow, services, user):
    first = await requested(uow, services)
    second = await requested(uow, services)

    with pytest.raises(InvalidOneTimeToken):
        await reset_password(ResetPassword(token=first, new_password=NEW_PASSWORD), uow, services)
    await reset_password(ResetPassword(token=second, new_password=NEW_PASSWORD), uow, services)


async def test_resetting_sets_the_password_revokes_every_session_and_verifies_the_address(
    uow, services, user
):
    session = await log_in(LogIn(email="ada@example.org", password=PASSWORD), uow, services)
    token = await requested(uow, services)

    await reset_password(ResetPassword(token=token, new_password=NEW_PASSWORD), uow, services)

    assert uow.sessions.rows[session.session_id].revoke_reason is RevokeReason.PASSWORD_RESET
    assert uow.users.rows[user.id].email_verified
    assert uow.audit.kinds()[-1] == "password_reset"
    await log_in(LogIn(email="ada@example.org", password=NEW_PASSWORD), uow, services)


async def test_a_reset_token_works_once(uow, services, user):
    token = await requested(uow, services)
    await reset_password(ResetPassword(token=token, new_password=NEW_PASSWORD), uow, services)

    with pytest.raises(InvalidOneTimeToken):
        await reset_password(ResetPassword(token=token, new_password="yet another passphrase"), uow, services)


async def test_a_reset_token_expires_after_fifteen_minutes(uow, services, user, clock):
    token = await requested(uow, services)
    clock.current += timedelta(minutes=15)

    with pytest.raises(InvalidOneTimeToken):
        await reset_password(ResetPassword(token=token, new_password=NEW_PASSWORD), uow, services)


async def test_a_weak_password_does_not_burn_the_token(uow, services, user):
    token = await requested(uow, services)

    with pytest.raises(WeakPassword):
        await reset_password(ResetPassword(token=token, new_password="password"), uow, services)
    await reset_password(ResetPassword(token=token, new_password=NEW_PASSWORD), uow, services)


async def test_a_made_up_token_costs_no_hash(uow, services, user):
    services.hasher.calls.clear()

    with pytest.raises(InvalidOneTimeToken):
        await reset_password(ResetPassword(token="made-up", new_password=NEW_PASSWORD), uow, services)
    assert services.hasher.calls == []


async def test_email_verification_mails_a_link_that_verifies_once(uow, services, user):
    await request_email_verification(RequestEmailVerification(user_id=user.id), uow, services)
    token = token_in(services.mailer.sent[-1])

    await verify_email(VerifyEmail(token=token), uow, services)

    assert uow.users.rows[user.id].email_verified
    with pytest.raises(InvalidOneTimeToken):
        await verify_email(VerifyEmail(token=token), uow, services)
    with pytest.raises(Conflict):
        await request_email_verification(RequestEmailVerification(user_id=user.id), uow, services)


async def test_a_reset_token_does_not_verify_an_address_nor_the_reverse(uow, services, user):
    reset = await requested(uow, services)
    await request_email_verification(RequestEmailVerification(user_id=user.id), uow, services)
    verification = token_in(services.mailer.sent[-1])

    with pytest.raises(InvalidOneTimeToken):
        await verify_email(VerifyEmail(token=reset), uow, services)
    with pytest.raises(InvalidOneTimeToken):
        await reset_password(ResetPassword(token=verification, new_password=NEW_PASSWORD), uow, services)


async def test_past_three_links_in_the_window_a_reset_request_mails_nothing_and_is_audited(
    uow, services, user, clock
):
    for _ in range(5):
        await request_password_reset(RequestPasswordReset(email="ADA@example.org"), uow, services)

    assert len(services.mailer.sent) == 3
    throttled = [e for e in uow.audit.entries if e.details.get("throttled")]
    assert len(throttled) == 2
    assert len(uow.one_time_tokens.rows) == 1

    clock.current += timedelta(minutes=15, seconds=1)
    await requested(uow, services)
    assert len(services.mailer.sent) == 4


async def test_an_unknown_address_uses_up_its_allowance_exactly_as_a_known_one(uow, services, user):
    for email in ["nobody@example.org"] * 4 + ["ada@example.org"] * 4:
        await request_password_reset(RequestPasswordReset(email=email), uow, services)

    assert [e.details.get("throttled", False) for e in uow.audit.entries[-8:]] == [False] * 3 + [True] + [
        False
    ] * 3 + [True]


async def test_verification_links_share_the_allowance_and_past_it_get_too_many_attempts(uow, services, user):
    await requested(uow, services)
    for _ in range(2):
        await request_email_verification(RequestEmailVerification(user_id=user.id), uow, services)

    with pytest.raises(TooManyAttempts) as refused:
        await request_email_verification(RequestEmailVerification(user_id=user.id), uow, services)

    assert 0 < refused.value.retry_after <= 15 * 60
    assert len(services.mailer.sent) == 3


async def test_one_client_asking_for_links_to_many_addresses_is_refused_past_its_limit(uow, clock):
    policy = ThrottlePolicy(mail_requests_per_client=3)
    sprayer, neighbour = ClientInfo(ip="203.0.113.9"), ClientInfo(ip="198.51.100.4")
    for _ in range(3):
        await admit_mail_request(sprayer, uow, policy, clock.now())

    with pytest.raises(TooManyAttempts) as refused:
        await admit_mail_request(sprayer, uow, policy, clock.now())

    assert refused.value.retry_after == 15 * 60
    await admit_mail_request(neighbour, uow, policy, clock.now())
    clock.current += timedelta(minutes=15, seconds=1)
    await admit_mail_request(sprayer, uow, policy, clock.now())


async def test_a_client_of_unknown_address_is_not_counted(uow, clock):
    policy = ThrottlePolicy(mail_requests_per_client=1)

    for _ in range(3):
        await admit_mail_request(ClientInfo(), uow, policy, clock.now())

    assert uow.attempts.rows == []
