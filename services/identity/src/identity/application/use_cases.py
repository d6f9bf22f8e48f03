"""identity's use cases as the entrypoints call them: bound by the composition root.

Each use case names the ports and rules it uses as keyword-only parameters
(``register(cmd, uow, *, hasher, clock)``); ``identity.bootstrap`` gives them once, so an
entrypoint is left with the command and the request's unit of work
(``await register(cmd, uow)``). The types below are what the bound use cases are.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar
from uuid import UUID

from identity.application.admin import ChangeUser, DeleteUser, ListUsers, ReadAuditTrail
from identity.application.admins import CreateAdmin
from identity.application.email_verification import RequestEmailVerification, VerifyEmail
from identity.application.login import LogIn
from identity.application.oidc import AuthorizationRequest
from identity.application.oidc_login import FinishOidcLogin
from identity.application.password_reset import RequestPasswordReset, ResetPassword
from identity.application.ports import UnitOfWork
from identity.application.profile import ChangePassword, DeleteAccount, UpdateProfile
from identity.application.refresh import LogOut, Refresh
from identity.application.registration import Register
from identity.application.sessions import RevokeOtherSessions, RevokeSession
from identity.application.tokens import TokenPair
from identity.domain.audit import AuditEntry
from identity.domain.sessions import ClientInfo, Session
from identity.domain.users import User
from shared.kernel.pagination import Page

C = TypeVar("C")
R = TypeVar("R")

Handler: TypeAlias = Callable[[C, UnitOfWork], Coroutine[Any, Any, R]]
"""A bound command: ``await handler(cmd, uow)`` (a coroutine, so it can also be left to
``Background.run``)."""
Query: TypeAlias = Callable[[C], Awaitable[R]]
"""A bound read outside any transaction: ``await query(arg)``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class UseCases:
    """Every use case an entrypoint calls, its ports and rules given (see the module docstring)."""

    register: Handler[Register, User]
    sign_up: Handler[Register, User | None]
    log_in: Handler[LogIn, TokenPair]
    refresh: Handler[Refresh, TokenPair]
    log_out: Handler[LogOut, None]
    start_oidc_login: Handler[str, AuthorizationRequest]
    finish_oidc_login: Handler[FinishOidcLogin, TokenPair]
    admit_mail_request: Handler[ClientInfo, None]
    request_password_reset: Handler[RequestPasswordReset, None]
    reset_password: Handler[ResetPassword, None]
    request_email_verification: Handler[RequestEmailVerification, None]
    verify_email: Handler[VerifyEmail, None]
    update_profile: Handler[UpdateProfile, User]
    change_password: Handler[ChangePassword, None]
    delete_account: Handler[DeleteAccount, None]
    list_sessions: Query[UUID, list[Session]]
    revoke_session: Handler[RevokeSession, None]
    revoke_other_sessions: Handler[RevokeOtherSessions, int]
    list_users: Query[ListUsers, Page[User]]
    get_user: Query[UUID, User]
    change_user: Handler[ChangeUser, User]
    delete_user: Handler[DeleteUser, None]
    audit_trail: Query[ReadAuditTrail, Page[AuditEntry]]
    create_admin: Handler[CreateAdmin, tuple[User, bool]]
    public_keys: Callable[[], dict[str, Any]]
