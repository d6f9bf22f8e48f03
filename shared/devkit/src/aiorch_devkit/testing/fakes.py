"""In-memory fakes of the ports every service has, for use-case tests (no I/O)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from shared.kernel.aggregate import Seen

E = TypeVar("E")


class FakeUnitOfWork(Generic[E]):
    """Keeps changes only when committed, like the real one; records what was published.

    A service's fake repositories are given by name and become attributes
    (``FakeUnitOfWork(users=FakeUserRepository(seen))`` → ``uow.users``). Their
    state (their public attributes) is saved on entering the block and put back on
    leaving it without a commit. A fake repository of an aggregate is given ``seen``
    (kept in a private attribute, which is wiring, not state) and adds to it every
    aggregate it hands out or takes, as the real ones do: :meth:`commit` publishes
    their new events.
    """

    def __init__(self, *, seen: Seen[E] | None = None, **repositories: Any) -> None:
        self.published: list[E] = []
        self.commits = 0
        self.seen: Seen[E] = seen if seen is not None else Seen()
        self._repositories = repositories
        for name, repository in repositories.items():
            setattr(self, name, repository)
        self._saved = self._save()

    async def __aenter__(self) -> Self:
        self._saved = self._save()
        self.seen.clear()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for name, state in self._saved.items():  # roll back whatever was not committed
            vars(self._repositories[name]).update(copy.deepcopy(state))
        self.seen.clear()

    async def commit(self) -> None:
        self._saved = self._save()
        self.published.extend(self.seen.collect())
        self.commits += 1

    def _save(self) -> dict[str, dict[str, Any]]:
        return {
            name: copy.deepcopy({key: value for key, value in vars(repository).items() if key[0] != "_"})
            for name, repository in self._repositories.items()
        }


class FixedClock:
    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current
