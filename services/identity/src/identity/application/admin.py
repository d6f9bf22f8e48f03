"""Admin use cases: find accounts, change their role or active flag, erase them, read the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from identity.application.admins import keep_an_active_admin
from identity.application.erasure import erase
from identity.application.ports import Clock, Queries, UnitOfWork
from identity.domain.audit import AuditEntry, AuditKind
from identity.domain.sessions import ClientInfo, RevokeReason
from identity.domain.users import Role, User
from shared.kernel.errors import Conflict, NotFound
from shared.kernel.pagination import Page, clamp_limit, decode_cursor, page_from_rows


@dataclass(frozen=True, slots=True, kw_only=True)
class ChangeUser:
    actor_id: UUID
    user_id: UUID
    role: Role | None = None
    is_active: bool | None = None
    client: ClientInfo = field(default_factory=ClientInfo)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteUser:
    actor_id: UUID
    user_id: UUID


@dataclass(frozen=True, slots=True, kw_only=True)
class ListUsers:
    q: str | None = None
    """Part of an address or a name."""
    role: Role | None = None
    cursor: str | None = None
    limit: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadAuditTrail:
    user_id: UUID | None = None
    """One account's entries, or (None) everyone's."""
    cursor: str | None = None
    limit: int | None = None


async def list_users(query: ListUsers, *, queries: Queries) -> Page[User]:
    """Accounts, oldest first, optionally those whose address or name contains ``q``, or of one role."""
    size = clamp_limit(query.limit)
    after = decode_cursor(query.cursor, UUID) if query.cursor else None
    rows = await queries.users(q=query.q or None, role=query.role, after=after, limit=size + 1)
    return page_from_rows(rows, size, key=lambda user: user.id)


async def get_user(user_id: UUID, *, queries: Queries) -> User:
    user = await queries.user(user_id)
    if user is None:
        raise NotFound("No such account.")
    return user


async def change_user(cmd: ChangeUser, uow: UnitOfWork, *, clock: Clock) -> User:
    """Change an account's role and/or active flag.

    Rules:
        * An admin cannot demote or deactivate themselves (``Conflict``): the last admin must
          not lock everyone out by a slip; another admin can, unless it is the last active
          admin (``LastAdmin``, 409, race-safe: ``admins.keep_an_active_admin``).
        * Deactivation revokes every session of the account at once. After a role change the
          account's access tokens (which state the old role) are refused at once too
          (``adapters.crypto.verification``); its sessions stay, and a refresh brings the new role.
        * Each change is audited with the admin as actor and publishes ``identity.user.updated``.
    """
    if cmd.actor_id == cmd.user_id and (cmd.role not in (None, "admin") or cmd.is_active is False):
        raise Conflict("Admins cannot demote or deactivate themselves; ask another admin.")
    now = clock.now()
    async with uow:
        if cmd.role == "user" or cmd.is_active is False:
            await keep_an_active_admin(uow, cmd.user_id)
        user = await uow.users.get(cmd.user_id, for_update=True)
        if user is None:
            raise NotFound("No such account.")
        entries: list[AuditEntry] = []  # one per change: the user changed if any
        if cmd.role is not None and user.change_role(cmd.role, now):
            entries.append(_entry(AuditKind.ROLE_CHANGED, cmd, now, role=cmd.role))
        if cmd.is_active is not None and user.set_active(cmd.is_active, now):
            kind = AuditKind.USER_ACTIVATED if cmd.is_active else AuditKind.USER_DEACTIVATED
            entries.append(_entry(kind, cmd, now))
            if not cmd.is_active:
                await uow.sessions.revoke_all(user.id, now=now, reason=RevokeReason.DEACTIVATED)
        if entries:
            await uow.users.update(user)
            await uow.audit.record(*entries)
        await uow.commit()
    return user


async def delete_user(cmd: DeleteUser, uow: UnitOfWork, *, clock: Clock) -> None:
    """Erase an account as its owner would (``erasure.erase``), the admin named as actor.

    Rules: an admin erases their own account through ``DELETE /users/me``, with their password;
    the last active admin is not erased (``LastAdmin``, 409).
    """
    if cmd.actor_id == cmd.user_id:
        raise Conflict("Admins erase their own account through DELETE /users/me.")
    now = clock.now()
    async with uow:
        await keep_an_active_admin(uow, cmd.user_id)
        user = await uow.users.get(cmd.user_id, for_update=True)
        if user is None:
            raise NotFound("No such account.")
        await erase(uow, user, now=now, actor_id=cmd.actor_id)
        await uow.commit()


async def audit_trail(query: ReadAuditTrail, *, queries: Queries) -> Page[AuditEntry]:
    """Audit entries, newest first, of one account or of all."""
    size = clamp_limit(query.limit)
    before = decode_cursor(query.cursor, tuple[datetime, UUID]) if query.cursor else None
    rows = await queries.audit(user_id=query.user_id, before=before, limit=size + 1)
    return page_from_rows(rows, size, key=lambda entry: (entry.at, entry.id))


def _entry(kind: AuditKind, cmd: ChangeUser, now: datetime, **details: str) -> AuditEntry:
    return AuditEntry.record(
        kind, at=now, user_id=cmd.user_id, actor_id=cmd.actor_id, client=cmd.client, details=details
    )
