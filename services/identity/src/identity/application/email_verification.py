"""Use cases: prove that the account's address reaches its owner."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from identity.application.errors import InvalidOneTimeToken, TooManyAttempts
from identity.application.mail import verify_email_mail
from identity.application.ports import Clock, Mailer, SecretTokens, UnitOfWork
from identity.application.security import NewSecret
from identity.application.throttle import take_mail_allowance
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.one_time_tokens import OneTimeToken, TokenPurpose
from identity.domain.sessions import ClientInfo
from identity.domain.throttling import ThrottlePolicy
from shared.kernel.errors import Conflict, NotFound


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestEmailVerification:
    user_id: UUID
    client: ClientInfo = field(default_factory=ClientInfo)


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyEmail:
    token: str = field(repr=False)
    client: ClientInfo = field(default_factory=ClientInfo)


async def request_email_verification(
    cmd: RequestEmailVerification,
    uow: UnitOfWork,
    *,
    secrets: SecretTokens,
    mailer: Mailer,
    clock: Clock,
    throttle: ThrottlePolicy,
    link_base_url: str,
    token_ttl: timedelta,
) -> None:
    """Mail a single-use verification link to the caller's own address.

    Rules: an address already verified needs no link (``Conflict``); a new link replaces
    earlier ones; same token rules as password reset (digest only, once, 15 minutes); at most
    ``throttle.mails_per_address`` links in the window (``TooManyAttempts``).
    """
    secret = secrets.new()
    now = clock.now()
    async with uow:
        user = await uow.users.get(cmd.user_id)
        if user is None:
            raise NotFound("No such account.")
        if user.email_verified:
            raise Conflict("The email address is already verified.")
        wait = await take_mail_allowance(user.email, uow, throttle, now)
        if wait is not None:
            raise TooManyAttempts(wait, "Too many links were mailed to this address. Try again later.")
        await uow.one_time_tokens.discard(user.id, TokenPurpose.VERIFY_EMAIL)
        await uow.one_time_tokens.add(verification_token(user.id, secret, now=now, ttl=token_ttl))
        await uow.audit.record(
            AuditEntry.record(
                AuditKind.EMAIL_VERIFICATION_REQUESTED, at=now, user_id=user.id, client=cmd.client
            )
        )
        await uow.commit()
    await send_verification_link(mailer, user.email, secret, link_base_url=link_base_url, token_ttl=token_ttl)


def verification_token(user_id: UUID, secret: NewSecret, *, now: datetime, ttl: timedelta) -> OneTimeToken:
    """A single-use token that verifies the address of ``user_id``'s account (its digest only)."""
    return OneTimeToken.issue(
        digest=secret.digest, purpose=TokenPurpose.VERIFY_EMAIL, user_id=user_id, now=now, ttl=ttl
    )


async def send_verification_link(
    mailer: Mailer, to: str, secret: NewSecret, *, link_base_url: str, token_ttl: timedelta
) -> None:
    """Mail the link carrying ``secret`` (in the fragment), once its token is committed."""
    link = f"{link_base_url}/verify-email#token={secret.plaintext}"
    await mailer.send(verify_email_mail(to, link, int(token_ttl.total_seconds() // 60)))


async def verify_email(cmd: VerifyEmail, uow: UnitOfWork, *, secrets: SecretTokens, clock: Clock) -> None:
    """Mark the address of the token's account verified; the token works once, within 15 minutes."""
    digest = secrets.digest(cmd.token)
    now = clock.now()
    async with uow:
        token = await uow.one_time_tokens.consume(digest, TokenPurpose.VERIFY_EMAIL, now)
        user = None if token is None else await uow.users.get(token.user_id, for_update=True)
        if user is None:
            raise InvalidOneTimeToken
        user.verify_email(now)
        await uow.users.update(user)
        await uow.audit.record(
            AuditEntry.record(AuditKind.EMAIL_VERIFIED, at=now, user_id=user.id, client=cmd.client)
        )
        await uow.commit()
