"""``/auth/sessions``: the caller's own sessions."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get
from litestar.params import PathParameter

from identity.application.sessions import RevokeOtherSessions, RevokeSession
from identity.application.use_cases import Handler, Query
from identity.domain.sessions import Session
from identity.entrypoints.http.dependencies import ClientDep, Dep, UnitOfWorkDep
from identity.entrypoints.http.openapi import problems
from identity.entrypoints.http.schemas import SessionResponse
from shared.auth import BEARER_SECURITY, CurrentPrincipal

SessionId = Annotated[UUID, PathParameter(description="One of my sessions, by its `id`.")]


class SessionsController(Controller):
    path = "/auth/sessions"
    tags = ["sessions"]
    security = BEARER_SECURITY

    @get("/", operation_id="list_sessions", summary="My sessions", responses=problems(401))
    async def list_sessions(
        self, principal: CurrentPrincipal, list_sessions: Dep[Query[UUID, list[Session]]]
    ) -> list[SessionResponse]:
        """The sessions of mine that can still be refreshed, newest first: when each began,
        was last used and ends, from which user agent and IP address; `current` marks the one
        of the access token used."""
        sessions = await list_sessions(principal.user_id)
        return [SessionResponse.of(session, principal.session_id) for session in sessions]

    @delete(
        "/{session_id:uuid}",
        operation_id="revoke_session",
        summary="End one of my sessions",
        responses=problems(400, 401, 404),
        status_code=204,
    )
    async def revoke_session(
        self,
        session_id: SessionId,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        revoke_session: Dep[Handler[RevokeSession, None]],
        client_info: ClientDep,
    ) -> None:
        """Ends the session: its tokens stop working at once. A 404 if it is not one of mine
        (or no session at all)."""
        command = RevokeSession(user_id=principal.user_id, session_id=session_id, client=client_info)
        await revoke_session(command, uow)

    @delete(
        "/",
        operation_id="revoke_other_sessions",
        summary="End all my other sessions",
        responses=problems(401),
        status_code=204,
    )
    async def revoke_other_sessions(
        self,
        principal: CurrentPrincipal,
        uow: UnitOfWorkDep,
        revoke_other_sessions: Dep[Handler[RevokeOtherSessions, int]],
        client_info: ClientDep,
    ) -> None:
        """Ends every session of mine except the one of the access token making this request:
        a way to sign out everywhere else."""
        command = RevokeOtherSessions(
            user_id=principal.user_id, current_session_id=principal.session_id, client=client_info
        )
        await revoke_other_sessions(command, uow)
