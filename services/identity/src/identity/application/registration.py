"""Use case: sign up with an email address and a password."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from identity.application.email_verification import send_verification_link, verification_token
from identity.application.errors import TooManyAttempts
from identity.application.mail import registration_attempt_mail
from identity.application.ports import Clock, EmailTaken, Mailer, PasswordHasher, SecretTokens, UnitOfWork
from identity.application.throttle import reserve_attempt, take_mail_allowance
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.emails import normalise_email
from identity.domain.passwords import check_password
from identity.domain.sessions import ClientInfo
from identity.domain.throttling import ThrottlePolicy, registration_client_key
from identity.domain.users import Role, User, normalise_name


@dataclass(frozen=True, slots=True, kw_only=True)
class Register:
    email: str
    password: str = field(repr=False)
    name: str | None = None
    client: ClientInfo = field(default_factory=ClientInfo)
    role: Role = "user"


async def register(cmd: Register, uow: UnitOfWork, *, hasher: PasswordHasher, clock: Clock) -> User:
    """Create an account and publish ``identity.user.registered``.

    Rules:
        * The address is normalised (``domain.emails``); one account per address, compared
          case-insensitively: a second one is refused (``EmailTaken``, 409), even when two
          sign-ups race.
        * The password must pass the policy (``domain.passwords``; ``WeakPassword``, 400 with
          the reason); its NFKC form is what gets hashed, off the event loop and outside the
          transaction.
        * The new account is active, unverified, with the ``user`` role unless the caller
          (the first-admin command) says otherwise.
    """
    email = normalise_email(cmd.email)
    name = normalise_name(cmd.name)
    password = check_password(cmd.password)
    password_hash = await hasher.hash(password)
    now = clock.now()
    user = User.register(email=email, name=name, password_hash=password_hash, now=now, role=cmd.role)
    async with uow:
        await uow.users.add(user)
        await uow.audit.record(
            AuditEntry.record(AuditKind.USER_REGISTERED, at=now, user_id=user.id, client=cmd.client)
        )
        await uow.commit()
    return user


async def sign_up(
    cmd: Register,
    uow: UnitOfWork,
    *,
    hasher: PasswordHasher,
    clock: Clock,
    secrets: SecretTokens,
    mailer: Mailer,
    throttle: ThrottlePolicy,
    link_base_url: str,
    token_ttl: timedelta,
    reveals_existing: bool,
) -> User | None:
    """Sign up from the API: :func:`register`, without telling whether the address had an account.

    Rules:
        * One client (IP) may try ``throttle.registrations_per_client`` sign-ups in the window,
          whatever the addresses and outcomes (``TooManyAttempts``, 429).
        * A new address: the account is created and a single-use verification link mailed to
          it. An address that has an account: nothing changes; its owner is mailed that someone
          tried (at most ``throttle.mails_per_address`` mails in the window). Both cost the
          same (a password is hashed either way) and the caller gets the same answer (None):
          registration does not reveal which addresses have accounts.
        * ``reveals_existing`` (a deployment's choice): a taken address is ``EmailTaken`` (409)
          instead, and its owner is not mailed.
    Returns the new account, or None when the address had one (for the caller's logs only).
    """
    now = clock.now()
    if cmd.client.ip:
        async with uow:
            key = registration_client_key(cmd.client.ip)
            wait = await reserve_attempt(uow, [(key, throttle.registrations_per_client)], throttle, now)
            await uow.commit()
        if wait is not None:
            raise TooManyAttempts(wait, "Too many sign-ups from this client. Try again later.")
    try:
        user = await register(cmd, uow, hasher=hasher, clock=clock)
    except EmailTaken:
        if reveals_existing:
            raise
        await _tell_the_owner(cmd.email, uow, mailer=mailer, throttle=throttle, clock=clock)
        return None
    secret = secrets.new()
    async with uow:
        await uow.one_time_tokens.add(verification_token(user.id, secret, now=now, ttl=token_ttl))
        await uow.commit()
    await send_verification_link(mailer, user.email, secret, link_base_url=link_base_url, token_ttl=token_ttl)
    return user


async def _tell_the_owner(
    email: str, uow: UnitOfWork, *, mailer: Mailer, throttle: ThrottlePolicy, clock: Clock
) -> None:
    now = clock.now()
    async with uow:
        owner = await uow.users.by_email(email)
        if owner is None:  # erased since: nobody to tell
            return
        wait = await take_mail_allowance(owner.email, uow, throttle, now)
        await uow.commit()
    if wait is None:
        await mailer.send(registration_attempt_mail(owner.email))
