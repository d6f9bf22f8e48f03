"""Use case: sign up with an email address and a password."""

from __future__ import annotations

from dataclasses import dataclass, field

from identity.application.ports import Clock, PasswordHasher, UnitOfWork
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.emails import normalise_email
from identity.domain.passwords import check_password
from identity.domain.sessions import ClientInfo
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
