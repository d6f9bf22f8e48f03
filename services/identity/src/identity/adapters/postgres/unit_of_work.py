"""identity's unit of work: the shared transaction and outbox staging (``shared.db.unit_of_work``),
with identity's repositories on its connection.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from identity.adapters.postgres.attempts import SqlAlchemyAttempts
from identity.adapters.postgres.audit import SqlAlchemyAuditTrail
from identity.adapters.postgres.oidc_links import (
    SqlAlchemyOidcLinkRepository,
    SqlAlchemyPendingLoginRepository,
)
from identity.adapters.postgres.one_time_tokens import SqlAlchemyOneTimeTokenRepository
from identity.adapters.postgres.sessions import SqlAlchemyRefreshTokenRepository, SqlAlchemySessionRepository
from identity.adapters.postgres.users import SqlAlchemyUserRepository
from identity.application.ports import (
    Attempts,
    AuditTrail,
    OidcLinkRepository,
    OneTimeTokenRepository,
    PendingLoginRepository,
    RefreshTokenRepository,
    SessionRepository,
    UserRepository,
)
from identity.domain.events import DomainEvent
from shared.db import unit_of_work


class SqlAlchemyUnitOfWork(unit_of_work.SqlAlchemyUnitOfWork[DomainEvent]):
    users: UserRepository
    sessions: SessionRepository
    refresh_tokens: RefreshTokenRepository
    one_time_tokens: OneTimeTokenRepository
    oidc_links: OidcLinkRepository
    pending_logins: PendingLoginRepository
    audit: AuditTrail
    attempts: Attempts

    def attach_repositories(self, conn: AsyncConnection) -> None:
        self.users = SqlAlchemyUserRepository(conn, self.seen)
        self.sessions = SqlAlchemySessionRepository(conn, self.seen)
        self.refresh_tokens = SqlAlchemyRefreshTokenRepository(conn)
        self.one_time_tokens = SqlAlchemyOneTimeTokenRepository(conn)
        self.oidc_links = SqlAlchemyOidcLinkRepository(conn)
        self.pending_logins = SqlAlchemyPendingLoginRepository(conn)
        self.audit = SqlAlchemyAuditTrail(conn)
        self.attempts = SqlAlchemyAttempts(conn)
