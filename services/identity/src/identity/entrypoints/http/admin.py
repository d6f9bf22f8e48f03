"""``/admin``: accounts and the audit trail, for admins only."""

from __future__ import annotations

from typing import Annotated, Final
from uuid import UUID

from litestar import Controller, delete, get, patch
from litestar.params import FromPath, JSONBody, QueryParameter

from identity.application.admin import (
    ChangeUser,
    DeleteUser,
    audit_trail,
    change_user,
    delete_user,
    get_user,
    list_users,
)
from identity.domain.audit import AuditEntry
from identity.entrypoints.http.dependencies import ClientDep, QueriesDep, ServicesDep, UnitOfWorkDep
from identity.entrypoints.http.openapi import problems
from identity.entrypoints.http.schemas import AuditEntryResponse, Role, UserChange, UserResponse
from shared.auth import BEARER_SECURITY, CurrentPrincipal, admin_guard
from shared.kernel.pagination import MAX_LIMIT, Page

ADMIN_ONLY: Final = "Admin only: requires an access token with the admin role (403 otherwise)."
Cursor = Annotated[
    str | None, QueryParameter(max_length=512, description="From the previous page's next_cursor.")
]
Limit = Annotated[
    int | None, QueryParameter(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")
]


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

    @get("/users", operation_id="admin_list_users", responses=problems(400, 401, 403), description=ADMIN_ONLY)
    async def list_users(
        self,
        principal: CurrentPrincipal,
        queries: QueriesDep,
        q: Annotated[
            str | None, QueryParameter(max_length=100, description="Part of an address or a name.")
        ] = None,
        role: Annotated[Role | None, QueryParameter()] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[UserResponse]:
        """Accounts, oldest first, filtered by text and role.

        Returns:
            One page of accounts and the cursor of the next (``null`` on the last).
        """
        page = await list_users(queries, q=q, role=role, cursor=cursor, limit=limit)
        return page.map(UserResponse.of)

    @get(
        "/users/{user_id:uuid}",
        operation_id="admin_get_user",
        responses=problems(401, 403, 404),
        description=ADMIN_ONLY,
    )
    async def get_user(
        self, user_id: FromPath[UUID], principal: CurrentPrincipal, queries: QueriesDep
    ) -> UserResponse:
        """One account.

        Returns:
            The account; 404 if there is none with that id.
        """
        return UserResponse.of(await get_user(queries, user_id))

    @patch(
        "/users/{user_id:uuid}",
        operation_id="admin_update_user",
        responses=problems(400, 401, 403, 404, 409),
        description=ADMIN_ONLY,
    )
    async def update_user(
        self,
        user_id: FromPath[UUID],
        data: JSONBody[UserChange],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        services: ServicesDep,
        client_info: ClientDep,
    ) -> UserResponse:
        """Change an account's role or deactivate (or reactivate) it.

        Args:
            user_id: The account.
            data: The new role and/or active flag.

        Returns:
            The account; 404 if there is none; 409 for a change to oneself that would demote or
            deactivate.
        """
        command = ChangeUser(
            actor_id=principal.user_id,
            user_id=user_id,
            role=data.role,
            is_active=data.is_active,
            client=client_info,
        )
        return UserResponse.of(await change_user(command, uow, services))

    @delete(
        "/users/{user_id:uuid}",
        operation_id="admin_delete_user",
        responses=problems(401, 403, 404, 409),
        status_code=204,
        description=ADMIN_ONLY,
    )
    async def delete_user(
        self, user_id: FromPath[UUID], principal: CurrentPrincipal, uow: UnitOfWorkDep, services: ServicesDep
    ) -> None:
        """Erase an account, as its owner could (``identity.user.deleted`` is published).

        Args:
            user_id: The account.

        Returns:
            204; 404 if there is none; 409 for one's own account (use ``DELETE /users/me``).
        """
        await delete_user(DeleteUser(actor_id=principal.user_id, user_id=user_id), uow, services)

    @get("/audit", operation_id="admin_audit", responses=problems(400, 401, 403), description=ADMIN_ONLY)
    async def audit(
        self,
        principal: CurrentPrincipal,
        queries: QueriesDep,
        user_id: Annotated[UUID | None, QueryParameter()] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[AuditEntryResponse]:
        """Security events (logins, refresh-token reuse, password changes, role changes, deletions...),
        newest first.

        Returns:
            One page of entries, of one account if ``user_id`` is given.
        """
        page = await audit_trail(queries, user_id=user_id, cursor=cursor, limit=limit)
        return page.map(audit_response)
