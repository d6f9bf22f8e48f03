"""In-memory fakes of identity's ports, for use-case tests (no I/O).

State lives in plain attributes so that ``aiorch_devkit.testing.fakes.FakeUnitOfWork`` can save
it on entering a block and put it back when the block ends without a commit.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from aiorch_devkit.testing.fakes import FakeUnitOfWork, FixedClock
from identity.application.mail import OutgoingMail
from identity.application.oidc import PendingLogin
from identity.application.policy import Policy
from identity.application.ports import EmailTaken
from identity.application.security import IssuedToken, NewSecret
from identity.application.use_cases import UseCases
from identity.bootstrap import Ports, bind
from identity.domain.audit import AuditEntry
from identity.domain.emails import same_address
from identity.domain.events import DomainEvent
from identity.domain.oidc_links import OidcLink
from identity.domain.one_time_tokens import OneTimeToken, TokenPurpose
from identity.domain.sessions import BulkRevocation, RefreshToken, RevokeReason, Session
from identity.domain.users import Role, User
from shared.kernel.aggregate import Seen
from shared.kernel.clock import Clock


class FakeUserRepository:
    def __init__(self, seen: Seen[DomainEvent]) -> None:
        self.rows: dict[UUID, User] = {}
        self._seen = seen

    async def get(self, user_id: UUID, *, for_update: bool = False) -> User | None:
        return self._loaded(self.rows.get(user_id))

    async def by_email(self, email: str) -> User | None:
        return self._loaded(next((u for u in self.rows.values() if same_address(u.email, email)), None))

    async def add(self, user: User) -> None:
        if any(same_address(u.email, user.email) for u in self.rows.values()):
            raise EmailTaken
        self.rows[user.id] = _stored(user)
        self._seen.add(user)

    def _loaded(self, stored: User | None) -> User | None:
        user = copy.deepcopy(stored)
        if user is not None:
            self._seen.add(user)
        return user

    async def update(self, user: User) -> None:
        self.rows[user.id] = _stored(user)

    async def delete(self, user_id: UUID) -> None:
        self.rows.pop(user_id, None)

    async def lock_active_admins(self) -> list[UUID]:
        return sorted(u.id for u in self.rows.values() if u.role == "admin" and u.is_active)


def _stored(user: User) -> User:
    stored = copy.deepcopy(user)
    stored.events = []  # events belong to the use case, not to storage
    return stored


class FakeSessionRepository:
    def __init__(self, seen: Seen[DomainEvent]) -> None:
        self.rows: dict[UUID, Session] = {}
        self._seen = seen

    async def add(self, session: Session) -> None:
        self.rows[session.id] = _stored_session(session)
        self._seen.add(session)

    async def get(self, session_id: UUID, *, for_update: bool = False) -> Session | None:
        session = copy.deepcopy(self.rows.get(session_id))
        if session is not None:
            self._seen.add(session)
        return session

    async def update(self, session: Session) -> None:
        self.rows[session.id] = _stored_session(session)

    async def revoke_all(
        self, user_id: UUID, *, now: datetime, reason: RevokeReason, keep: UUID | None = None
    ) -> int:
        targets = [
            s for s in self.rows.values() if s.user_id == user_id and s.id != keep and s.revoked_at is None
        ]
        for session in targets:
            session.revoke(now, reason)
            session.events = []  # told once, together, as the real bulk statement does
        self._seen.add(BulkRevocation.of(user_id, [s.id for s in targets], reason=reason, now=now))
        return len(targets)

    async def revoke_beyond(self, user_id: UUID, keep: int, *, now: datetime, reason: RevokeReason) -> int:
        live = [s for s in self.rows.values() if s.user_id == user_id and s.revoked_at is None]
        live.sort(key=lambda s: (s.last_used_at, s.id), reverse=True)
        for session in live[keep:]:
            session.revoke(now, reason)
            session.events = []
        self._seen.add(BulkRevocation.of(user_id, [s.id for s in live[keep:]], reason=reason, now=now))
        return len(live[keep:])

    async def delete_ended(self, user_id: UUID, now: datetime) -> int:
        ended = [s.id for s in self.rows.values() if s.user_id == user_id and now >= s.expires_at]
        for session_id in ended:
            del self.rows[session_id]
        return len(ended)


def _stored_session(session: Session) -> Session:
    stored = copy.deepcopy(session)
    stored.events = []
    return stored


class FakeRefreshTokenRepository:
    def __init__(self) -> None:
        self.rows: dict[bytes, RefreshToken] = {}

    async def add(self, token: RefreshToken) -> None:
        self.rows[token.digest] = copy.deepcopy(token)

    async def spend(self, digest: bytes, now: datetime) -> UUID | None:
        token = self.rows.get(digest)
        if token is None or token.spent_at is not None:
            return None
        token.spent_at = now
        return token.session_id

    async def find(self, digest: bytes) -> RefreshToken | None:
        return copy.deepcopy(self.rows.get(digest))


class FakeOneTimeTokenRepository:
    def __init__(self, find_user: Callable[[str], User | None]) -> None:
        self.rows: dict[bytes, OneTimeToken] = {}
        # A plain function, not the users repository: the fake unit of work copies attributes
        # on rollback, and a copied repository would no longer be the one the test sees.
        self.find_user = find_user

    async def add(self, token: OneTimeToken) -> None:
        self.rows[token.digest] = copy.deepcopy(token)

    async def find(self, digest: bytes, purpose: TokenPurpose) -> OneTimeToken | None:
        token = self.rows.get(digest)
        return copy.deepcopy(token) if token is not None and token.purpose is purpose else None

    async def consume(self, digest: bytes, purpose: TokenPurpose, now: datetime) -> OneTimeToken | None:
        token = self.rows.get(digest)
        if token is None or token.purpose is not purpose or not token.usable(now):
            return None
        token.used_at = now
        return copy.deepcopy(token)

    async def discard(self, user_id: UUID, purpose: TokenPurpose) -> None:
        self.rows = {
            d: t for d, t in self.rows.items() if not (t.user_id == user_id and t.purpose is purpose)
        }

    async def issue_for_address(
        self, email: str, *, purpose: TokenPurpose, digest: bytes, now: datetime, ttl: timedelta
    ) -> tuple[UUID, str] | None:
        user = self.find_user(email)
        if user is None or not user.is_active:
            return None
        await self.discard(user.id, purpose)
        await self.add(OneTimeToken.issue(digest=digest, purpose=purpose, user_id=user.id, now=now, ttl=ttl))
        return user.id, user.email


class FakeOidcLinkRepository:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], OidcLink] = {}

    async def get(self, provider: str, subject: str) -> OidcLink | None:
        return self.rows.get((provider, subject))

    async def add(self, link: OidcLink) -> None:
        self.rows[(link.provider, link.subject)] = link


class FakePendingLoginRepository:
    def __init__(self) -> None:
        self.rows: dict[str, tuple[PendingLogin, datetime]] = {}

    async def add(self, pending: PendingLogin, *, expires_at: datetime) -> None:
        self.rows[pending.state] = (pending, expires_at)

    async def take(self, state: str, now: datetime) -> PendingLogin | None:
        entry = self.rows.pop(state, None)
        return entry[0] if entry is not None and entry[1] > now else None

    async def prune(self, now: datetime) -> int:
        expired = [state for state, (_, expires_at) in self.rows.items() if expires_at <= now]
        for state in expired:
            del self.rows[state]
        return len(expired)


class FakeAuditTrail:
    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def record(self, *entries: AuditEntry) -> None:
        self.entries.extend(entries)

    async def anonymise(self, user_id: UUID) -> None:
        self.entries = [
            replace(e, user_id=None, ip=None, user_agent=None, details={})
            if e.user_id == user_id
            else replace(e, actor_id=None, ip=None, user_agent=None)
            if e.actor_id == user_id
            else e
            for e in self.entries
        ]

    def kinds(self) -> list[str]:
        return [entry.kind.value for entry in self.entries]


class FakeAttempts:
    def __init__(self) -> None:
        self.rows: list[tuple[str, datetime]] = []
        self.devices: dict[tuple[str, UUID | None], datetime] = {}

    async def lock(self, key: str) -> None:
        """One event loop, no concurrent transactions to keep apart."""

    async def recent(self, key: str, *, since: datetime, limit: int) -> list[datetime]:
        times = sorted((at for k, at in self.rows if k == key and at > since), reverse=True)
        return times[:limit]

    async def add(self, keys: Sequence[str], *, at: datetime, prune_before: datetime) -> None:
        self.rows = [(k, t) for k, t in self.rows if t >= prune_before]
        self.rows.extend((key, at) for key in keys)

    async def withdraw(self, keys: Sequence[str], *, at: datetime) -> None:
        for key in keys:
            self.rows.remove((key, at))

    async def clear(self, key: str) -> None:
        self.rows = [(k, t) for k, t in self.rows if k != key]

    async def device_known(self, device: str, user_id: UUID | None, *, since: datetime) -> bool:
        return self.devices.get((device, user_id), since) > since

    async def remember_device(
        self, device: str, user_id: UUID, *, now: datetime, forget_before: datetime
    ) -> None:
        self.devices[(device, user_id)] = now


def fake_uow() -> FakeUnitOfWork[Any]:
    seen: Seen[DomainEvent] = Seen()
    users = FakeUserRepository(seen)

    def find_user(email: str) -> User | None:
        return next((u for u in users.rows.values() if same_address(u.email, email)), None)

    return FakeUnitOfWork(
        seen=seen,
        users=users,
        sessions=FakeSessionRepository(seen),
        refresh_tokens=FakeRefreshTokenRepository(),
        one_time_tokens=FakeOneTimeTokenRepository(find_user),
        oidc_links=FakeOidcLinkRepository(),
        pending_logins=FakePendingLoginRepository(),
        audit=FakeAuditTrail(),
        attempts=FakeAttempts(),
    )


class FakeHasher:
    """``hash:<params>:<password>``; records which kind of verification ran."""

    def __init__(self, params: str = "v1") -> None:
        self.params = params
        self.calls: list[str] = []

    async def hash(self, password: str, /) -> str:
        self.calls.append("hash")
        return f"hash:{self.params}:{password}"

    async def verify(self, hash: str, password: str, /) -> bool:
        self.calls.append("verify")
        return hash.split(":", 2)[2] == password

    async def verify_dummy(self, password: str, /) -> bool:
        self.calls.append("verify_dummy")
        return False

    def needs_rehash(self, hash: str, /) -> bool:
        return hash.split(":", 2)[1] != self.params


class FakeAccessTokens:
    def __init__(self) -> None:
        self.issued: list[dict[str, Any]] = []

    def issue(self, *, user_id: UUID, role: str, session_id: UUID, now: datetime) -> IssuedToken:
        self.issued.append({"user_id": user_id, "role": role, "session_id": session_id, "now": now})
        return IssuedToken(token=f"access-{len(self.issued)}", expires_in=900, jti=str(len(self.issued)))


class FakeSecretTokens:
    def __init__(self) -> None:
        self.count = 0

    def new(self) -> NewSecret:
        self.count += 1
        plaintext = f"secret-{self.count}"
        return NewSecret(plaintext, self.digest(plaintext))

    def digest(self, plaintext: str) -> bytes:
        return hashlib.sha256(plaintext.encode()).digest()


class FakeKeys:
    def current_kid(self) -> str:
        return "kid-1"

    def jwks(self) -> dict[str, Any]:
        return {"keys": []}

    def rotate(self, *, overlap: timedelta, now: datetime, publish_ahead: timedelta = timedelta(0)) -> str:
        return "kid-2"

    def retire_expired(self, *, now: datetime) -> list[str]:
        return []


class FakeMailer:
    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    async def send(self, message: OutgoingMail) -> None:
        self.sent.append(message)


class RunNow:
    """``Background`` that simply awaits the work."""

    async def run(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        await work


class FakeQueries:
    """The reads, over a fake unit of work's committed rows."""

    def __init__(self, uow: FakeUnitOfWork[Any]) -> None:
        self._uow = uow

    async def user(self, user_id: UUID) -> User | None:
        return copy.deepcopy(self._uow.users.rows.get(user_id))

    async def active_sessions(self, user_id: UUID, now: datetime) -> list[Session]:
        sessions = [s for s in self._uow.sessions.rows.values() if s.user_id == user_id and s.is_active(now)]
        return sorted(sessions, key=lambda s: s.created_at, reverse=True)

    async def users(self, *, q: str | None, role: Role | None, after: UUID | None, limit: int) -> list[User]:
        found = [
            u
            for u in sorted(self._uow.users.rows.values(), key=lambda u: u.id)
            if (after is None or u.id > after)
            and (role is None or u.role == role)
            and (not q or q.lower() in f"{u.email} {u.name or ''}".lower())
        ]
        return copy.deepcopy(found[:limit])

    async def audit(
        self, *, user_id: UUID | None, before: tuple[datetime, UUID] | None, limit: int
    ) -> list[AuditEntry]:
        entries = sorted(self._uow.audit.entries, key=lambda e: (e.at, e.id), reverse=True)
        return [
            e
            for e in entries
            if (user_id is None or e.user_id == user_id) and (before is None or (e.at, e.id) < before)
        ][:limit]


class SteppingClock(FixedClock):
    """A fixed clock that a test moves on."""

    def advance(self, delta: timedelta) -> None:
        self.current += delta


class FakeMonotonic:
    """Stands in for ``time.monotonic``: moves only when a test adds to ``value``."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


class FakeSessionGate:
    """``SessionGate`` over a fake unit of work's rows, by the clock it is given."""

    def __init__(self, uow: FakeUnitOfWork[Any], clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    async def live_account(self, session_id: UUID, user_id: UUID) -> User | None:
        session = self._uow.sessions.rows.get(session_id)
        user = self._uow.users.rows.get(user_id)
        now = self._clock.now()
        if session is None or session.user_id != user_id or session.revoked_at is not None:
            return None
        if now >= session.absolute_expires_at or user is None or not user.is_active:
            return None
        return copy.deepcopy(user)


@dataclass(kw_only=True)
class FakeIdentity:
    """identity's ports as fakes, the policy, and the use cases bound to them (``use``)."""

    clock: FixedClock = field(default_factory=FixedClock)
    hasher: FakeHasher = field(default_factory=FakeHasher)
    access_tokens: FakeAccessTokens = field(default_factory=FakeAccessTokens)
    secrets: FakeSecretTokens = field(default_factory=FakeSecretTokens)
    keys: FakeKeys = field(default_factory=FakeKeys)
    mailer: FakeMailer = field(default_factory=FakeMailer)
    oidc: Any = None
    background: RunNow = field(default_factory=RunNow)
    queries: Any = None
    policy: Policy = field(default_factory=lambda: Policy(public_url="https://id.example"))

    @property
    def use(self) -> UseCases:
        ports = Ports(
            clock=self.clock,
            hasher=self.hasher,
            access_tokens=self.access_tokens,
            secrets=self.secrets,
            keys=self.keys,
            mailer=self.mailer,
            oidc=self.oidc,
            background=self.background,
            queries=self.queries,
        )
        return bind(ports, self.policy)


def fake_identity(clock: FixedClock | None = None, **overrides: Any) -> FakeIdentity:
    return FakeIdentity(clock=clock or FixedClock(), **overrides)
