"""``/users/me``: the caller's own account."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody

from identity.application.profile import (
    ChangePassword,
    DeleteAccount,
    UpdateProfile,
    change_password,
    delete_account,
    update_profile,
)
from identity.entrypoints.http.dependencies import AccountDep, ClientDep, ServicesDep, UnitOfWorkDep
from identity.entrypoints.http.openapi import problems
from identity.entrypoints.http.schemas import AccountDeletion, PasswordChange, ProfileUpdate, UserResponse
from shared.auth import BEARER_SECURITY, CurrentPrincipal


class MeController(Controller):
    path = "/users/me"
    tags = ["users"]
    security = BEARER_SECURITY

    @get("/", operation_id="get_me", responses=problems(401))
    async def get_me(self, account: AccountDep) -> UserResponse:
        """My account.

        Returns:
            The account of the access token used.
        """
        return UserResponse.of(account)

    @patch("/", operation_id="update_me", responses=problems(400, 401))
    async def update_me(
        self,
        data: JSONBody[ProfileUpdate],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        services: ServicesDep,
    ) -> UserResponse:
        """Change my display name.

        Args:
            data: JSONBody[The] new name (``null`` or blank removes it).

        Returns:
            The updated account.
        """
        user = await update_profile(UpdateProfile(user_id=principal.user_id, name=data.name), uow, services)
        return UserResponse.of(user)

    @post(
        "/password", operation_id="change_password", responses=problems(400, 401, 403, 429), status_code=204
    )
    async def change_password(
        self,
        data: JSONBody[PasswordChange],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        services: ServicesDep,
        client_info: ClientDep,
    ) -> None:
        """Change my password; every other session of mine ends.

        Args:
            data: JSONBody[The] current password and the new one.

        Returns:
            204; 403 if the current password is wrong (or the account has none yet); 400 with
            the reason if the new one is weak; 429 after too many wrong passwords.
        """
        command = ChangePassword(
            user_id=principal.user_id,
            session_id=principal.session_id,
            current_password=data.current_password,
            new_password=data.new_password,
            client=client_info,
        )
        await change_password(command, uow, services)

    @delete("/", operation_id="delete_me", responses=problems(400, 401, 403, 429), status_code=204)
    async def delete_me(
        self,
        data: JSONBody[AccountDeletion],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        services: ServicesDep,
        client_info: ClientDep,
    ) -> None:
        """Erase my account: sessions, tokens and links go, the audit trail forgets me, and
        the other services are told (``identity.user.deleted``).

        Args:
            data: JSONBody[My] password, to confirm.

        Returns:
            204; 403 if the password is wrong; 429 after too many wrong passwords.
        """
        command = DeleteAccount(user_id=principal.user_id, password=data.password, client=client_info)
        await delete_account(command, uow, services)
