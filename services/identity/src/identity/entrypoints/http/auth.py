"""``/auth``: sign-up, login, refresh, logout."""

from __future__ import annotations

from litestar import Controller, post
from litestar.datastructures import CacheControlHeader
from litestar.params import JSONBody

from identity.application.login import LogIn, log_in
from identity.application.refresh import LogOut, Refresh, log_out, refresh
from identity.application.registration import Register, register
from identity.application.tokens import TokenPair
from identity.entrypoints.http.dependencies import ClientDep, ServicesDep, UnitOfWorkDep
from identity.entrypoints.http.openapi import problems
from identity.entrypoints.http.schemas import (
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    TokenResponse,
    UserResponse,
)

# RFC 6749 §5.1: responses carrying tokens must not be cached anywhere.
NO_STORE = CacheControlHeader(no_store=True)


def token_response(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post("/register", operation_id="register", responses=problems(400, 409), status_code=201)
    async def register(
        self,
        data: JSONBody[RegisterRequest],
        uow: UnitOfWorkDep,
        services: ServicesDep,
        client_info: ClientDep,
    ) -> UserResponse:
        """Create an account.

        The address is stored as typed (domain lower-cased) and must not belong to another
        account in any case. The password must be 8-128 characters and not a common one.

        Args:
            data: JSONBody[The] address, the password and an optional display name.

        Returns:
            The new account (201); 409 if the address is taken; 400 with the reason for a
            weak password or an invalid address.
        """
        command = Register(email=data.email, password=data.password, name=data.name, client=client_info)
        return UserResponse.of(await register(command, uow, services))

    @post(
        "/login",
        operation_id="login",
        responses=problems(400, 401, 429),
        status_code=200,
        cache_control=NO_STORE,
    )
    async def login(
        self, data: JSONBody[LoginRequest], uow: UnitOfWorkDep, services: ServicesDep, client_info: ClientDep
    ) -> TokenResponse:
        """Log in with an email address and a password; opens a session.

        Args:
            data: JSONBody[The] address and the password.

        Returns:
            An access token and the first refresh token of a new session. 401, with one and
            the same body, for an unknown address, a wrong password or a deactivated account;
            429 with ``Retry-After`` after too many failures for the address or from the client.
        """
        command = LogIn(email=data.email, password=data.password, client=client_info)
        return token_response(await log_in(command, uow, services))

    @post(
        "/refresh",
        operation_id="refresh",
        responses=problems(400, 401),
        status_code=200,
        cache_control=NO_STORE,
    )
    async def refresh(
        self,
        data: JSONBody[RefreshRequest],
        uow: UnitOfWorkDep,
        services: ServicesDep,
        client_info: ClientDep,
    ) -> TokenResponse:
        """Trade a refresh token for a new pair; the token presented is spent.

        Presenting a spent refresh token again revokes its whole session: every token of
        that login stops working.

        Args:
            data: JSONBody[The] refresh token.

        Returns:
            A new access token and the next refresh token; 401 for a spent, revoked, expired or
            unknown one.
        """
        command = Refresh(refresh_token=data.refresh_token, client=client_info)
        return token_response(await refresh(command, uow, services))

    @post("/logout", operation_id="logout", responses=problems(400), status_code=204)
    async def logout(
        self,
        data: JSONBody[RefreshRequest],
        uow: UnitOfWorkDep,
        services: ServicesDep,
        client_info: ClientDep,
    ) -> None:
        """End the session a refresh token belongs to.

        Args:
            data: JSONBody[A] refresh token of the session (spent or not).

        Returns:
            204, also when the token is unknown or its session already ended.
        """
        await log_out(LogOut(refresh_token=data.refresh_token, client=client_info), uow, services)
