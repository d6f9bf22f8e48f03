"""Use cases: forgotten password → a mailed single-use link → a new password."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from identity.application.errors import InvalidOneTimeToken
from identity.application.mail import password_reset_mail
from identity.application.ports import Clock, Mailer, PasswordHasher, SecretTokens, UnitOfWork
from identity.application.throttle import take_mail_allowance
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.emails import InvalidEmail, normalise_email
from identity.domain.one_time_tokens import TokenPurpose
from identity.domain.passwords import check_password
from identity.domain.sessions import ClientInfo, RevokeReason
from identity.domain.throttling import ThrottlePolicy, account_key


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestPasswordReset:
    email: str
    client: ClientInfo = field(default_factory=ClientInfo)


@dataclass(frozen=True, slots=True, kw_only=True)
class ResetPassword:
    token: str = field(repr=False)
    new_password: str = field(repr=False)
    client: ClientInfo = field(default_factory=ClientInfo)


async def request_password_reset(
    cmd: RequestPasswordReset,
    uow: UnitOfWork,
    *,
    secrets: SecretTokens,
    mailer: Mailer,
    clock: Clock,
    throttle: ThrottlePolicy,
    link_base_url: str,
    token_ttl: timedelta,
) -> None:
    """Mail a single-use reset link to the account with this address, if there is an active one.

    Rules:
        * The caller learns nothing: the same work is done whether or not the account exists
          (one statement issues the token or finds nothing; one audit entry either way), and
          the mail leaves in the background, after the commit, so the answer never waits for it.
        * The token has 128+ random bits, is stored as a digest, works once, expires after
          ``token_ttl`` (15 minutes), and replaces any earlier reset token.
        * The link carries the token in its fragment, which browsers send to no server.
        * At most ``throttle.mails_per_address`` links go to one address in the
          window (counted on the address typed, account or not); past that, nothing is issued
          nor sent, and the audit entry says so. Callers admit the client first
          (``admit_mail_request``).
    """
    try:
        email = normalise_email(cmd.email)
    except InvalidEmail:
        email = cmd.email.strip()  # names no account; answered all the same
    secret = secrets.new()
    now = clock.now()
    async with uow:
        throttled = await take_mail_allowance(email, uow, throttle, now) is not None
        account = (
            None
            if throttled
            else await uow.one_time_tokens.issue_for_address(
                email, purpose=TokenPurpose.RESET, digest=secret.digest, now=now, ttl=token_ttl
            )
        )
        await uow.audit.record(
            AuditEntry.record(
                AuditKind.PASSWORD_RESET_REQUESTED,
                at=now,
                user_id=account[0] if account else None,
                client=cmd.client,
                details={"throttled": True} if throttled else None,
            )
        )
        await uow.commit()
    if account is not None:
        link = f"{link_base_url}/reset-password#token={secret.plaintext}"
        await mailer.send(password_reset_mail(account[1], link, int(token_ttl.total_seconds() // 60)))


async def reset_password(
    cmd: ResetPassword, uow: UnitOfWork, *, secrets: SecretTokens, hasher: PasswordHasher, clock: Clock
) -> None:
    """Set a new password with a reset token.

    Rules:
        * The new password must pass the policy; that is checked before the token is used,
          so a weak choice does not burn the link.
        * The token must be a reset token, unused and unexpired (``InvalidOneTimeToken``
          otherwise); it is spent atomically, so of two racing confirmations one wins.
        * Every session of the account is revoked; the address counts as verified (the
          link reached it); earlier login failures are forgotten.
    """
    new_password = check_password(cmd.new_password)
    digest = secrets.digest(cmd.token)
    now = clock.now()
    async with uow:
        token = await uow.one_time_tokens.find(digest, TokenPurpose.RESET)
    # Looked up first so that a made-up token never costs a password hash.
    if token is None or not token.usable(now):
        raise InvalidOneTimeToken
    new_hash = await hasher.hash(new_password)
    async with uow:
        spent = await uow.one_time_tokens.consume(digest, TokenPurpose.RESET, now)
        user = None if spent is None else await uow.users.get(spent.user_id, for_update=True)
        if user is None or not user.is_active:
            raise InvalidOneTimeToken
        user.set_password_hash(new_hash, now)
        user.verify_email(now)
        await uow.users.update(user)
        revoked = await uow.sessions.revoke_all(user.id, now=now, reason=RevokeReason.PASSWORD_RESET)
        await uow.one_time_tokens.discard(user.id, TokenPurpose.RESET)
        await uow.attempts.clear(account_key(user.email))
        await uow.audit.record(
            AuditEntry.record(
                AuditKind.PASSWORD_RESET, at=now, user_id=user.id, client=cmd.client, revoked=revoked
            )
        )
        await uow.commit()
