"""``/users/me``: the caller's own account."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.params import JSONBody

from identity.application.profile import ChangePassword, DeleteAccount, UpdateProfile
from identity.application.use_cases import Handler
from identity.domain.users import User
from identity.entrypoints.http.dependencies import AccountDep, ClientDep, Dep, UnitOfWorkDep
from identity.entrypoints.http.openapi import problems
from identity.entrypoints.http.schemas import AccountDeletion, PasswordChange, ProfileUpdate, UserResponse
from shared.auth import BEARER_SECURITY, CurrentPrincipal


class MeController(Controller):
    path = "/users/me"
    tags = ["users"]
    security = BEARER_SECURITY

    @get("/", operation_id="get_me", summary="My account", responses=problems(401))
    async def get_me(self, account: AccountDep) -> UserResponse:
        """The account of the access token used: address, display name, role, and whether the
        address is verified and the account has a password."""
        return UserResponse.of(account)

    @patch("/", operation_id="update_me", summary="Change my display name", responses=problems(400, 401, 413))
    async def update_me(
        self,
        data: JSONBody[ProfileUpdate],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        update_profile: Dep[Handler[UpdateProfile, User]],
    ) -> UserResponse:
        """Sets the display name (`null` or blank removes it) and answers the updated account.
        A name over 100 characters or with control characters is a 400."""
        user = await update_profile(UpdateProfile(user_id=principal.user_id, name=data.name), uow)
        return UserResponse.of(user)

    @post(
        "/password",
        operation_id="change_password",
        summary="Change my password",
        responses=problems(400, 401, 403, 413, 429),
        status_code=204,
    )
    async def change_password(
        self,
        data: JSONBody[PasswordChange],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        change_password: Dep[Handler[ChangePassword, None]],
        client_info: ClientDep,
    ) -> None:
        """Replaces the password after checking the current one; every other session of mine
        ends.

        A wrong current password (or none yet, for an account that only signs in through an
        OIDC provider) is a 403; a weak new one a 400 that says why; too many wrong passwords
        a 429 with `Retry-After`.
        """
        command = ChangePassword(
            user_id=principal.user_id,
            session_id=principal.session_id,
            current_password=data.current_password,
            new_password=data.new_password,
            client=client_info,
        )
        await change_password(command, uow)

    @delete(
        "/",
        operation_id="delete_me",
        summary="Erase my account",
        responses=problems(400, 401, 403, 409, 413, 429),
        status_code=204,
    )
    async def delete_me(
        self,
        data: JSONBody[AccountDeletion],
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        delete_account: Dep[Handler[DeleteAccount, None]],
        client_info: ClientDep,
    ) -> None:
        """Erases my account once my password confirms it: sessions, tokens and links go, the
        audit trail forgets me, and the other services are told (event `identity.user.deleted`)
        to erase what they hold of me.

        A wrong password (or none, for an OIDC-only account) is a 403; too many wrong
        passwords from this client a 429 with `Retry-After`; the last active admin's account a
        409 (make another account an admin first).
        """
        command = DeleteAccount(user_id=principal.user_id, password=data.password, client=client_info)
        await delete_account(command, uow)
