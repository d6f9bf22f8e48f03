"""Use case: log in with an email address and a password."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from identity.application.errors import InvalidCredentials, TooManyAttempts
from identity.application.ports import AccessTokenIssuer, Clock, PasswordHasher, SecretTokens, UnitOfWork
from identity.application.throttle import login_plan, reserve_planned, settle_success
from identity.application.tokens import TokenPair, open_session
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.emails import InvalidEmail, normalise_email
from identity.domain.passwords import normalise_password
from identity.domain.sessions import ClientInfo, SessionLifetime
from identity.domain.throttling import ThrottlePolicy
from identity.domain.users import User


@dataclass(frozen=True, slots=True, kw_only=True)
class LogIn:
    email: str
    password: str = field(repr=False)
    client: ClientInfo = field(default_factory=ClientInfo)
    device: str | None = field(default=None, repr=False)
    """The client's device token (its cookie): known to the account once a login from it succeeded."""


async def log_in(
    cmd: LogIn,
    uow: UnitOfWork,
    *,
    hasher: PasswordHasher,
    secrets: SecretTokens,
    access_tokens: AccessTokenIssuer,
    clock: Clock,
    throttle: ThrottlePolicy,
    lifetime: SessionLifetime,
    max_sessions: int,
) -> TokenPair:
    """Check the password and open a session: a new refresh-token family and its first pair.

    Rules:
        * An unknown address, a wrong password, an account without a password (OIDC only) and
          a deactivated account all get the same ``InvalidCredentials``, after the same work:
          a real hash is verified in every case (``verify_dummy`` where there is none), so
          neither the answer nor its timing tells whether the account exists.
        * Throttling (``domain.throttling``): per (address typed, client), per client IP, and
          for unknown clients a progressive slowdown of the address; a device known to the
          account (``cmd.device``, remembered on every success) skips the last two. Past a
          limit ``TooManyAttempts`` is raised before any password is checked, whether or not
          an account has that address. Each attempt is counted before its password is checked
          (``reserve_attempt``), so concurrent guesses cannot slip past the limit; a success
          takes its count back and clears this client's failures on the address (no one else's).
        * A hash made with other parameters than the current ones is replaced by a fresh one.
        * Every outcome is audited; the password never is.
    """
    email = _lenient(cmd.email)
    now = clock.now()
    async with uow:
        user = await uow.users.by_email(email)
        known = cmd.device is not None and await uow.attempts.device_known(
            cmd.device, user.id if user else None, since=now - throttle.known_device_ttl
        )
        plan = login_plan(email, cmd.client, throttle, device=cmd.device if known else None)
        wait = await reserve_planned(uow, plan, throttle, now)
        if wait is not None:
            await uow.audit.record(_entry(AuditKind.LOGIN_THROTTLED, user, cmd, now))
        await uow.commit()
    if wait is not None:
        raise TooManyAttempts(wait)
    # No transaction (nor pooled connection) is held while the hash runs.
    password = normalise_password(cmd.password)
    if user is not None and user.password_hash is not None:
        matches = await hasher.verify(user.password_hash, password)
    else:
        matches = await hasher.verify_dummy(password)
    if user is None or not matches or not user.is_active:
        async with uow:  # counted already, by the reservation
            reason = "unknown_account" if user is None else ("wrong_password" if not matches else "inactive")
            await uow.audit.record(_entry(AuditKind.LOGIN_FAILED, user, cmd, now, reason=reason))
            await uow.commit()
        raise InvalidCredentials
    assert user.password_hash is not None
    fresh_hash = await hasher.hash(password) if hasher.needs_rehash(user.password_hash) else None
    async with uow:
        current = await uow.users.get(user.id, for_update=fresh_hash is not None)
        if current is None or not current.is_active:  # deleted or deactivated meanwhile
            raise InvalidCredentials
        if fresh_hash is not None:
            current.set_password_hash(fresh_hash, now)
            await uow.users.update(current)
        await settle_success(uow, plan, now)
        if cmd.device is not None:
            await uow.attempts.remember_device(
                cmd.device, current.id, now=now, forget_before=now - throttle.known_device_ttl
            )
        pair = await open_session(
            uow,
            user=current,
            client=cmd.client,
            now=now,
            secrets=secrets,
            access_tokens=access_tokens,
            lifetime=lifetime,
            max_sessions=max_sessions,
        )
        await uow.audit.record(
            _entry(
                AuditKind.LOGIN_SUCCEEDED,
                current,
                cmd,
                now,
                method="password",
                rehashed=fresh_hash is not None,
            )
        )
        await uow.commit()
    return pair


def _lenient(raw: str) -> str:
    # A malformed address names no account; it is throttled and answered like an unknown one.
    try:
        return normalise_email(raw)
    except InvalidEmail:
        return raw.strip()


def _entry(
    kind: AuditKind, user: User | None, cmd: LogIn, now: datetime, **details: str | bool
) -> AuditEntry:
    return AuditEntry.record(
        kind, at=now, user_id=user.id if user else None, client=cmd.client, details=details
    )
