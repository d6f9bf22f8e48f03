"""``/auth/oidc/{provider}``: log in through an external OpenID Connect provider."""

from __future__ import annotations

from typing import Annotated, Final

from litestar import Controller, Response, get
from litestar.datastructures import Cookie
from litestar.params import CookieParameter, PathParameter, QueryParameter
from litestar.response import Redirect

from identity.application.oidc import PENDING_LOGIN_TTL, AuthorizationRequest
from identity.application.oidc_login import FinishOidcLogin
from identity.application.tokens import TokenPair
from identity.application.use_cases import Handler
from identity.entrypoints.http.auth import NO_STORE, token_response
from identity.entrypoints.http.dependencies import ClientDep, Dep, PolicyDep, UnitOfWorkDep
from identity.entrypoints.http.openapi import problems
from identity.entrypoints.http.schemas import TokenResponse

STATE_COOKIE: Final = "aiorch_oidc_state"
Provider = Annotated[
    str, PathParameter(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$", description="A configured provider.")
]
# Bounds well above what providers send (codes of a few hundred characters), and low enough that
# a callback URL at its limits (each character percent-encoded as up to 12 bytes) stays under the
# HTTP server's 64 KiB request line: a longer one is refused there, before this API can answer.
Code = Annotated[
    str | None, QueryParameter(max_length=2048, description="The authorization code the provider issued.")
]
ErrorCode = Annotated[
    str | None,
    QueryParameter(max_length=256, description="The provider's error code, sent instead of a code."),
]


def state_cookie(provider: str, value: str, *, secure: bool, max_age: int) -> Cookie:
    # HttpOnly: no script reads it. SameSite=Lax: the provider's redirect back is a top-level
    # navigation, which Lax lets through, while other sites' subrequests carry nothing.
    return Cookie(
        key=STATE_COOKIE,
        value=value,
        path=f"/api/v1/auth/oidc/{provider}",
        httponly=True,
        samesite="lax",
        secure=secure,
        max_age=max_age,
    )


class OidcController(Controller):
    path = "/auth/oidc/{provider:str}"
    tags = ["auth"]

    @get(
        "/authorize",
        operation_id="oidc_authorize",
        summary="Start a login with an OIDC provider",
        responses=problems(400, 502),
        status_code=302,
        cache_control=NO_STORE,
    )
    async def authorize(
        self,
        provider: Provider,
        uow: UnitOfWorkDep,
        start_oidc_login: Dep[Handler[str, AuthorizationRequest]],
        policy: PolicyDep,
    ) -> Redirect:
        """Redirects the browser (302) to the provider's login, with a short-lived state cookie
        that the callback checks. A 400 for a provider that is not configured; a 502 if the
        provider cannot be reached."""
        request = await start_oidc_login(provider, uow)
        secure = policy.public_url.startswith("https://")
        cookie = state_cookie(
            provider, request.pending.state, secure=secure, max_age=int(PENDING_LOGIN_TTL.total_seconds())
        )
        return Redirect(request.url, status_code=302, cookies=[cookie])

    @get(
        "/callback",
        operation_id="oidc_callback",
        summary="Complete a login with an OIDC provider",
        responses=problems(400, 401, 409, 502),
        cache_control=NO_STORE,
    )
    async def callback(
        self,
        provider: Provider,
        uow: UnitOfWorkDep,
        finish_oidc_login: Dep[Handler[FinishOidcLogin, TokenPair]],
        policy: PolicyDep,
        client_info: ClientDep,
        browser_state: Annotated[
            str | None, CookieParameter(name=STATE_COOKIE, description="The state cookie `authorize` set.")
        ] = None,
        returned_state: Annotated[
            str | None,
            QueryParameter(name="state", max_length=512, description="The state the provider echoes back."),
        ] = None,
        code: Code = None,
        error: ErrorCode = None,
    ) -> Response[TokenResponse]:
        """Where the provider sends the browser back: opens a session for the account linked to
        the provider's identity (on a first login, the account with its verified address, or a
        new one) and answers an access token and the session's first refresh token.

        A 400 when the login is refused (state, nonce, signature, the provider's error...); a
        401 for a deactivated account; a 409 when an account has the address but it or the
        provider's is not verified, so they cannot be linked; a 502 if the provider cannot be
        reached.
        """
        params = {
            k: v for k, v in (("state", returned_state), ("code", code), ("error", error)) if v is not None
        }
        command = FinishOidcLogin(
            provider=provider, params=params, browser_state=browser_state, client=client_info
        )
        pair = await finish_oidc_login(command, uow)
        secure = policy.public_url.startswith("https://")
        return Response(token_response(pair), cookies=[state_cookie(provider, "", secure=secure, max_age=0)])
