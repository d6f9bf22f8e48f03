"""``/auth``: sign-up, login, refresh, logout."""

from __future__ import annotations

import secrets
from typing import Any, Final

from litestar import Controller, Request, Response, post
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.params import JSONBody

from identity.application.login import LogIn
from identity.application.refresh import LogOut, Refresh
from identity.application.registration import Register
from identity.application.tokens import TokenPair
from identity.application.use_cases import Handler
from identity.domain.throttling import KNOWN_DEVICE_TTL
from identity.domain.users import User
from identity.entrypoints.http.dependencies import ClientDep, Dep, UnitOfWorkDep
from identity.entrypoints.http.openapi import problems
from identity.entrypoints.http.schemas import (
    Accepted,
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    TokenResponse,
)

# RFC 6749 §5.1: responses carrying tokens must not be cached anywhere.
NO_STORE = CacheControlHeader(no_store=True)
SIGN_UP_ACCEPTED: Final = Accepted(
    detail="Check your mail: a link to confirm the address is on its way (if it has an account "
    "already, its owner was told instead)."
)
DEVICE_COOKIE: Final = "aiorch_device"
"""The device cookie: an opaque random token a successful login sets, so that the next logins
from this client are recognised as a known device's (``domain.throttling``)."""
_DEVICE_TOKEN_LENGTH: Final = 43  # secrets.token_urlsafe(32)


def _presented_device(request: Request[Any, Any, Any]) -> str | None:
    token = request.cookies.get(DEVICE_COOKIE)
    # Anything but a token this service could have set is no device at all.
    if token is None or len(token) != _DEVICE_TOKEN_LENGTH or not token.isascii():
        return None
    return token if all(c.isalnum() or c in "-_" for c in token) else None


def device_cookie(token: str, request: Request[Any, Any, Any]) -> Cookie:
    # HttpOnly: no script reads it; SameSite=Strict: no other site's request carries it; Secure
    # when the request came over TLS. Scoped to /auth: only the login needs it.
    return Cookie(
        key=DEVICE_COOKIE,
        value=token,
        max_age=int(KNOWN_DEVICE_TTL.total_seconds()),
        path="/api/v1/auth",
        httponly=True,
        secure=request.url.scheme == "https",
        samesite="strict",
    )


def token_response(pair: TokenPair) -> TokenResponse:
    return TokenResponse(
        access_token=pair.access_token, refresh_token=pair.refresh_token, expires_in=pair.expires_in
    )


class AuthController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post(
        "/register",
        operation_id="register",
        summary="Create an account",
        responses=problems(400, 409, 413, 429),
        status_code=202,
    )
    async def register(
        self,
        data: JSONBody[RegisterRequest],
        uow: UnitOfWorkDep,
        sign_up: Dep[Handler[Register, User | None]],
        client_info: ClientDep,
    ) -> Accepted:
        """Create an account with an email address, a password and an optional display name; a
        link to confirm the address is mailed to it.

        The answer is the same 202 whether or not the address already has an account (its
        owner is then mailed that someone tried): sign-up does not tell who has an account. A
        deployment may prefer a 409 for a taken address (`IDENTITY_REGISTRATION_REVEALS_EXISTING`).
        The password must be 8-128 characters and not a common one; a weak password or an
        invalid address is a 400 that says why. Too many sign-ups from one client: 429 with
        `Retry-After`.
        """
        command = Register(email=data.email, password=data.password, name=data.name, client=client_info)
        await sign_up(command, uow)
        return SIGN_UP_ACCEPTED

    @post(
        "/login",
        operation_id="login",
        summary="Log in with an email address and a password",
        responses=problems(400, 401, 413, 429),
        status_code=200,
        cache_control=NO_STORE,
    )
    async def login(
        self,
        request: Request[Any, Any, Any],
        data: JSONBody[LoginRequest],
        uow: UnitOfWorkDep,
        log_in: Dep[Handler[LogIn, TokenPair]],
        client_info: ClientDep,
    ) -> Response[TokenResponse]:
        """Opens a session: answers an access token and the session's first refresh token, and
        sets the device cookie (`aiorch_device`, HttpOnly, SameSite=Strict) that makes this
        client a known device of the account.

        An unknown address, a wrong password and a deactivated account get one and the same
        401. A 429 whose `Retry-After` says when to try again after too many failures on the
        address from this client, or from this client on any address; and, for clients the
        account does not know, while the address is slowed down by failures from elsewhere
        (a wait of at most a minute). A known device with the right password gets in.
        """
        device = _presented_device(request) or secrets.token_urlsafe(32)
        command = LogIn(email=data.email, password=data.password, client=client_info, device=device)
        pair = await log_in(command, uow)
        return Response(token_response(pair), cookies=[device_cookie(device, request)])

    @post(
        "/refresh",
        operation_id="refresh",
        summary="Trade a refresh token for a new token pair",
        responses=problems(400, 401, 413),
        status_code=200,
        cache_control=NO_STORE,
    )
    async def refresh(
        self,
        data: JSONBody[RefreshRequest],
        uow: UnitOfWorkDep,
        refresh: Dep[Handler[Refresh, TokenPair]],
        client_info: ClientDep,
    ) -> TokenResponse:
        """Spends the refresh token presented and answers a new access token and the next
        refresh token of the same session.

        A spent, revoked, expired or unknown refresh token is a 401. Presenting a spent one
        again revokes its whole session: every token of that login stops working.
        """
        command = Refresh(refresh_token=data.refresh_token, client=client_info)
        return token_response(await refresh(command, uow))

    @post(
        "/logout",
        operation_id="logout",
        summary="End the session of a refresh token",
        responses=problems(400, 413),
        status_code=204,
    )
    async def logout(
        self,
        data: JSONBody[RefreshRequest],
        uow: UnitOfWorkDep,
        log_out: Dep[Handler[LogOut, None]],
        client_info: ClientDep,
    ) -> None:
        """Ends the session that the refresh token (spent or not) belongs to: none of its
        tokens work any more. A 204 also when the token is unknown or its session already ended.
        """
        await log_out(LogOut(refresh_token=data.refresh_token, client=client_info), uow)
