"""Password reset and email verification, through fakes."""

import re
from datetime import timedelta

import pytest

from identity.application.email_verification import (
    RequestEmailVerification,
    VerifyEmail,
)
from identity.application.errors import InvalidOneTimeToken, TooManyAttempts
from identity.application.login import LogIn
from identity.application.password_reset import (
    RequestPasswordReset,
    ResetPassword,
)
from identity.application.registration import Register
from identity.application.throttle import admit_mail_request
from identity.domain.passwords import WeakPassword
from identity.domain.sessions import ClientInfo, RevokeReason
from identity.domain.throttling import ThrottlePolicy
from shared.kernel.errors import Conflict

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def user(uow, fakes):
    return await fakes.use.register(Register(email="Ada@example.org", password=PASSWORD), uow)


def token_in(mail) -> str:
    return re.search(r"#token=([\w-]+)", mail.text).group(1)


async def requested(uow, fakes, email="ada@example.org") -> str:
    await fakes.use.request_password_reset(RequestPasswordReset(email=email), uow)
    return token_in(fakes.mailer.sent[-1])


async def test_a_reset_link_is_mailed_to_the_stored_address_and_only_its_digest_kept(uow, fakes, user):
    token = await requested(uow, fakes, "ADA@EXAMPLE.ORG")

    (mail,) = fakes.mailer.sent
    assert mail.to == "Ada@example.org"
    assert "https://id.example/reset-password#token=" in mail.text
    assert "15 minutes" in mail.text
    (stored,) = uow.one_time_tokens.rows.values()
    assert stored.digest == fakes.secrets.digest(token)
    assert stored.expires_at == fakes.clock.now() + timedelta(minutes=15)


async def test_an_unknown_address_gets_no_mail_but_the_same_audit_and_commit(uow, fakes, user):
    await fakes.use.request_password_reset(RequestPasswordReset(email="nobody@example.org"), uow)
    await fakes.use.request_password_reset(RequestPasswordReset(email="not even an address"), uow)

    assert fakes.mailer.sent == []
    assert uow.audit.kinds().count("password_reset_requested") == 2
    assert uow.commits == 3  # the registration, then one per request


async def test_a_new_request_replaces_the_previous_link(uow, fakes, user):
    first = await requested(uow, fakes)
    second = await requested(uow, fakes)

    with pytest.raises(InvalidOneTimeToken):
        await fakes.use.reset_password(ResetPassword(token=first, new_password=NEW_PASSWORD), uow)
    await fakes.use.reset_password(ResetPassword(token=second, new_password=NEW_PASSWORD), uow)


async def test_resetting_sets_the_password_revokes_every_session_and_verifies_the_address(uow, fakes, user):
    session = await fakes.use.log_in(LogIn(email="ada@example.org", password=PASSWORD), uow)
    token = await requested(uow, fakes)

    await fakes.use.reset_password(ResetPassword(token=token, new_password=NEW_PASSWORD), uow)

    assert uow.sessions.rows[session.session_id].revoke_reason is RevokeReason.PASSWORD_RESET
    assert uow.users.rows[user.id].email_verified
    assert uow.audit.kinds()[-1] == "password_reset"
    await fakes.use.log_in(LogIn(email="ada@example.org", password=NEW_PASSWORD), uow)


async def test_a_reset_token_works_once(uow, fakes, user):
    token = await requested(uow, fakes)
    await fakes.use.reset_password(ResetPassword(token=token, new_password=NEW_PASSWORD), uow)

    with pytest.raises(InvalidOneTimeToken):
        await fakes.use.reset_password(ResetPassword(token=token, new_password="yet another passphrase"), uow)


async def test_a_reset_token_expires_after_fifteen_minutes(uow, fakes, user, clock):
    token = await requested(uow, fakes)
    clock.current += timedelta(minutes=15)

    with pytest.raises(InvalidOneTimeToken):
        await fakes.use.reset_password(ResetPassword(token=token, new_password=NEW_PASSWORD), uow)


async def test_a_weak_password_does_not_burn_the_token(uow, fakes, user):
    token = await requested(uow, fakes)

    with pytest.raises(WeakPassword):
        await fakes.use.reset_password(ResetPassword(token=token, new_password="password"), uow)
    await fakes.use.reset_password(ResetPassword(token=token, new_password=NEW_PASSWORD), uow)


async def test_a_made_up_token_costs_no_hash(uow, fakes, user):
    fakes.hasher.calls.clear()

    with pytest.raises(InvalidOneTimeToken):
        await fakes.use.reset_password(ResetPassword(token="made-up", new_password=NEW_PASSWORD), uow)
    assert fakes.hasher.calls == []


async def test_email_verification_mails_a_link_that_verifies_once(uow, fakes, user):
    await fakes.use.request_email_verification(RequestEmailVerification(user_id=user.id), uow)
    token = token_in(fakes.mailer.sent[-1])

    await fakes.use.verify_email(VerifyEmail(token=token), uow)

    assert uow.users.rows[user.id].email_verified
    with pytest.raises(InvalidOneTimeToken):
        await fakes.use.verify_email(VerifyEmail(token=token), uow)
    with pytest.raises(Conflict):
        await fakes.use.request_email_verification(RequestEmailVerification(user_id=user.id), uow)


async def test_a_reset_token_does_not_verify_an_address_nor_the_reverse(uow, fakes, user):
    reset = await requested(uow, fakes)
    await fakes.use.request_email_verification(RequestEmailVerification(user_id=user.id), uow)
    verification = token_in(fakes.mailer.sent[-1])

    with pytest.raises(InvalidOneTimeToken):
        await fakes.use.verify_email(VerifyEmail(token=reset), uow)
    with pytest.raises(InvalidOneTimeToken):
        await fakes.use.reset_password(ResetPassword(token=verification, new_password=NEW_PASSWORD), uow)


async def test_past_three_links_in_the_window_a_reset_request_mails_nothing_and_is_audited(
    uow, fakes, user, clock
):
    for _ in range(5):
        await fakes.use.request_password_reset(RequestPasswordReset(email="ADA@example.org"), uow)

    assert len(fakes.mailer.sent) == 3
    throttled = [e for e in uow.audit.entries if e.details.get("throttled")]
    assert len(throttled) == 2
    assert len(uow.one_time_tokens.rows) == 1

    clock.current += timedelta(minutes=15, seconds=1)
    await requested(uow, fakes)
    assert len(fakes.mailer.sent) == 4


async def test_an_unknown_address_uses_up_its_allowance_exactly_as_a_known_one(uow, fakes, user):
    for email in ["nobody@example.org"] * 4 + ["ada@example.org"] * 4:
        await fakes.use.request_password_reset(RequestPasswordReset(email=email), uow)

    assert [e.details.get("throttled", False) for e in uow.audit.entries[-8:]] == [False] * 3 + [True] + [
        False
    ] * 3 + [True]


async def test_verification_links_share_the_allowance_and_past_it_get_too_many_attempts(uow, fakes, user):
    await requested(uow, fakes)
    for _ in range(2):
        await fakes.use.request_email_verification(RequestEmailVerification(user_id=user.id), uow)

    with pytest.raises(TooManyAttempts) as refused:
        await fakes.use.request_email_verification(RequestEmailVerification(user_id=user.id), uow)

    assert 0 < refused.value.retry_after <= 15 * 60
    assert len(fakes.mailer.sent) == 3


async def test_one_client_asking_for_links_to_many_addresses_is_refused_past_its_limit(uow, clock):
    policy = ThrottlePolicy(mail_requests_per_client=3)
    sprayer, neighbour = ClientInfo(ip="203.0.113.9"), ClientInfo(ip="198.51.100.4")
    for _ in range(3):
        await admit_mail_request(sprayer, uow, throttle=policy, clock=clock)

    with pytest.raises(TooManyAttempts) as refused:
        await admit_mail_request(sprayer, uow, throttle=policy, clock=clock)

    assert refused.value.retry_after == 15 * 60
    await admit_mail_request(neighbour, uow, throttle=policy, clock=clock)
    clock.current += timedelta(minutes=15, seconds=1)
    await admit_mail_request(sprayer, uow, throttle=policy, clock=clock)


async def test_a_client_of_unknown_address_is_not_counted(uow, clock):
    policy = ThrottlePolicy(mail_requests_per_client=1)

    for _ in range(3):
        await admit_mail_request(ClientInfo(), uow, throttle=policy, clock=clock)

    assert uow.attempts.rows == []
