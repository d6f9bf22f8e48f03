"""``/admin``: accounts and the audit trail, for admins only."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch
from litestar.params import JSONBody, PathParameter, QueryParameter

from identity.application.admin import ChangeUser, DeleteUser, ListUsers, ReadAuditTrail
from identity.application.use_cases import Handler, Query
from identity.domain.audit import AuditEntry
from identity.domain.users import User
from identity.entrypoints.http.dependencies import ClientDep, Dep, UnitOfWorkDep
from identity.entrypoints.http.openapi import problems
from identity.entrypoints.http.schemas import AuditEntryResponse, Role, UserChange, UserResponse
from shared.auth import BEARER_SECURITY, CurrentPrincipal, admin_guard
from shared.kernel.pagination import MAX_LIMIT, Page

Cursor = Annotated[
    str | None, QueryParameter(max_length=512, description="From the previous page's next_cursor.")
]
Limit = Annotated[
    int | None, QueryParameter(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")
]
UserId = Annotated[UUID, PathParameter(description="The account's `id`.")]


def audit_response(entry: AuditEntry) -> AuditEntryResponse:
    return AuditEntryResponse(
        id=entry.id,
        at=entry.at,
        kind=entry.kind.value,
        user_id=entry.user_id,
        actor_id=entry.actor_id,
        ip=entry.ip,
        user_agent=entry.user_agent,
        details=dict(entry.details),
    )


class AdminController(Controller):
    path = "/admin"
    tags = ["admin"]
    guards = [admin_guard]
    security = BEARER_SECURITY

    @get(
        "/users",
        operation_id="admin_list_users",
        summary="List accounts",
        responses=problems(400, 401, 403),
    )
    async def list_users(
        self,
        principal: CurrentPrincipal,
        list_users: Dep[Query[ListUsers, Page[User]]],
        q: Annotated[
            str | None, QueryParameter(max_length=100, description="Part of an address or a name.")
        ] = None,
        role: Annotated[Role | None, QueryParameter(description="Only accounts with this role.")] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[UserResponse]:
        """Accounts, oldest first, whose address or name contains `q` and who have `role`: one
        page, with the cursor of the next (`null` on the last). Admin only (403 otherwise)."""
        page = await list_users(ListUsers(q=q, role=role, cursor=cursor, limit=limit))
        return page.map(UserResponse.of)

    @get(
        "/users/{user_id:uuid}",
        operation_id="admin_get_user",
        summary="One account",
        responses=problems(400, 401, 403, 404),
    )
    async def get_user(
        self, user_id: UserId, principal: CurrentPrincipal, get_user: Dep[Query[UUID, User]]
    ) -> UserResponse:
        """The account with this id; a 404 if there is none. Admin only (403 otherwise)."""
        return UserResponse.of(await get_user(user_id))

    @patch(
        "/users/{user_id:uuid}",
        operation_id="admin_update_user",
        summary="Change an account's role or active state",
        responses=problems(400, 401, 403, 404, 409, 413),
    )
    async def update_user(
        self,
        user_id: UserId,
        data: JSONBody[UserChange],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        change_user: Dep[Handler[ChangeUser, User]],
        client_info: ClientDep,
    ) -> UserResponse:
        """Changes an account's role, or deactivates (or reactivates) it, and answers the
        account. A 404 if there is none; a 409 for a change to oneself that would demote or
        deactivate (another admin must), or one that would leave no active admin. Admin only
        (403 otherwise)."""
        command = ChangeUser(
            actor_id=principal.user_id,
            user_id=user_id,
            role=data.role,
            is_active=data.is_active,
            client=client_info,
        )
        return UserResponse.of(await change_user(command, uow))

    @delete(
        "/users/{user_id:uuid}",
        operation_id="admin_delete_user",
        summary="Erase an account",
        responses=problems(400, 401, 403, 404, 409),
        status_code=204,
    )
    async def delete_user(
        self,
        user_id: UserId,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        delete_user: Dep[Handler[DeleteUser, None]],
    ) -> None:
        """Erases an account as its owner could, and tells the other services (event
        `identity.user.deleted`). A 404 if there is none; a 409 for one's own account (that is
        `DELETE /users/me`, with the password) and for the last active admin. Admin only (403
        otherwise)."""
        await delete_user(DeleteUser(actor_id=principal.user_id, user_id=user_id), uow)

    @get(
        "/audit",
        operation_id="admin_audit",
        summary="The audit trail",
        responses=problems(400, 401, 403),
    )
    async def audit(
        self,
        principal: CurrentPrincipal,
        audit_trail: Dep[Query[ReadAuditTrail, Page[AuditEntry]]],
        user_id: Annotated[
            UUID | None, QueryParameter(description="Only the entries about this account.")
        ] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[AuditEntryResponse]:
        """Security events (logins, refresh-token reuse, password changes, role changes,
        deletions...), newest first: one page, with the cursor of the next (`null` on the last).
        Admin only (403 otherwise)."""
        page = await audit_trail(ReadAuditTrail(user_id=user_id, cursor=cursor, limit=limit))
        return page.map(audit_response)
