"""``/auth/password-reset`` and ``/auth/verify-email``: links mailed to the account's address."""

from __future__ import annotations

from typing import Final

from litestar import Controller, post
from litestar.params import JSONBody

from identity.application.email_verification import RequestEmailVerification, VerifyEmail
from identity.application.password_reset import RequestPasswordReset, ResetPassword
from identity.application.use_cases import Handler
from identity.domain.sessions import ClientInfo
from identity.entrypoints.http.dependencies import BackgroundDep, ClientDep, Dep, UnitOfWorkDep
from identity.entrypoints.http.openapi import problems
from identity.entrypoints.http.schemas import (
    Accepted,
    EmailVerificationConfirmation,
    PasswordResetConfirmation,
    PasswordResetRequest,
)
from shared.auth import BEARER_SECURITY, CurrentPrincipal

# One body for every address, known or not.
RESET_ACCEPTED: Final = Accepted(detail="If an account has this address, a reset link is on its way to it.")
VERIFICATION_SENT: Final = Accepted(detail="A verification link is on its way to your address.")


class RecoveryController(Controller):
    path = "/auth"
    tags = ["auth"]

    @post(
        "/password-reset",
        operation_id="request_password_reset",
        summary="Ask for a password-reset link by mail",
        responses=problems(400, 413, 429),
        status_code=202,
    )
    async def request_password_reset(
        self,
        data: JSONBody[PasswordResetRequest],
        uow: UnitOfWorkDep,
        admit_mail_request: Dep[Handler[ClientInfo, None]],
        request_password_reset: Dep[Handler[RequestPasswordReset, None]],
        background: BackgroundDep,
        client_info: ClientDep,
    ) -> Accepted:
        """A 202 with the same body, in the same time, whether or not an account has the
        address: the link (single use, valid 15 minutes) goes only to an existing account, and
        at most a few times per address in 15 minutes. A 429 with `Retry-After` when this
        client asked for too many links."""
        await admit_mail_request(client_info, uow)
        # After the answer: its time must not tell whether an account has the address.
        command = RequestPasswordReset(email=data.email, client=client_info)
        await background.run(request_password_reset(command, uow), name="password-reset")
        return RESET_ACCEPTED

    @post(
        "/password-reset/confirm",
        operation_id="reset_password",
        summary="Set a new password with a mailed token",
        responses=problems(400, 413),
        status_code=204,
    )
    async def reset_password(
        self,
        data: JSONBody[PasswordResetConfirmation],
        uow: UnitOfWorkDep,
        reset_password: Dep[Handler[ResetPassword, None]],
        client_info: ClientDep,
    ) -> None:
        """Sets the account's new password with the token of a reset link; every session of the
        account ends. A 400 for an invalid, expired or used token, or a weak password (with the
        reason)."""
        command = ResetPassword(token=data.token, new_password=data.new_password, client=client_info)
        await reset_password(command, uow)

    @post(
        "/verify-email",
        operation_id="request_email_verification",
        summary="Mail a verification link to my address",
        responses=problems(401, 409, 429),
        status_code=202,
        security=BEARER_SECURITY,
    )
    async def request_email_verification(
        self,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        request_email_verification: Dep[Handler[RequestEmailVerification, None]],
        client_info: ClientDep,
    ) -> Accepted:
        """Mails a single-use link that verifies my account's address. A 409 if the address is
        already verified; a 429 with `Retry-After` after too many links to it in 15 minutes."""
        command = RequestEmailVerification(user_id=principal.user_id, client=client_info)
        await request_email_verification(command, uow)
        return VERIFICATION_SENT

    @post(
        "/verify-email/confirm",
        operation_id="verify_email",
        summary="Verify my address with a mailed token",
        responses=problems(400, 413),
        status_code=204,
    )
    async def verify_email(
        self,
        data: JSONBody[EmailVerificationConfirmation],
        uow: UnitOfWorkDep,
        verify_email: Dep[Handler[VerifyEmail, None]],
        client_info: ClientDep,
    ) -> None:
        """Marks the address of the account as verified with the token of a verification link.
        A 400 for an invalid, expired or used token."""
        await verify_email(VerifyEmail(token=data.token, client=client_info), uow)
