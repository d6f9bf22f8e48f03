"""argon2id password hashing (argon2-cffi), run on a bounded pool of worker threads."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

import argon2
from argon2.exceptions import Argon2Error

# OWASP Password Storage Cheat Sheet, first argon2id option: m=19 MiB, t=2, p=1.
DEFAULT_MEMORY_KIB: Final = 19_456
DEFAULT_TIME_COST: Final = 2
DEFAULT_PARALLELISM: Final = 1

_T = TypeVar("_T")


class Argon2PasswordHasher:
    """:class:`~identity.application.security.PasswordHasher` with argon2id.

    Hashing costs tens of milliseconds of CPU and ``memory_kib`` of memory, so it runs
    on a dedicated pool of ``max_concurrency`` threads (argon2-cffi releases the GIL):
    the event loop never waits for it, other blocking work in the loop's default
    executor is not starved by a burst of logins, and memory stays bounded at
    ``max_concurrency * memory_kib``. Call :meth:`close` on shutdown.
    """

    def __init__(
        self,
        *,
        memory_kib: int = DEFAULT_MEMORY_KIB,
        time_cost: int = DEFAULT_TIME_COST,
        parallelism: int = DEFAULT_PARALLELISM,
        hash_len: int = 32,
        salt_len: int = 16,
        max_concurrency: int | None = None,
    ) -> None:
        self._argon2 = argon2.PasswordHasher(
            time_cost=time_cost,
            memory_cost=memory_kib,
            parallelism=parallelism,
            hash_len=hash_len,
            salt_len=salt_len,
            type=argon2.Type.ID,
        )
        workers = max_concurrency or os.cpu_count() or 2
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        # A real hash at the current parameters, so verifying against it costs what a real
        # login costs. Made once here (tens of ms at start-up), never on a request's path.
        self._dummy_hash = self._argon2.hash(_encode(secrets.token_urlsafe(16)))

    async def hash(self, password: str, /) -> str:
        return await self._run(self._argon2.hash, _encode(password))

    async def verify(self, hash: str, password: str, /) -> bool:
        return await self._run(self._verify, hash, _encode(password))

    async def verify_dummy(self, password: str, /) -> bool:
        await self._run(self._verify, self._dummy_hash, _encode(password))
        return False

    def needs_rehash(self, hash: str, /) -> bool:
        try:
            return self._argon2.check_needs_rehash(hash)
        except (Argon2Error, ValueError, TypeError):
            return True

    def close(self) -> None:
        """Stop the worker threads; hashes already running finish, queued ones are dropped."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _verify(self, hash: str, password: bytes) -> bool:
        try:
            return self._argon2.verify(hash, password)
        except (Argon2Error, ValueError, TypeError):
            # Mismatch, a hash argon2 cannot parse, or non-ASCII garbage (UnicodeError is a ValueError).
            return False

    async def _run(self, function: Callable[..., _T], *args: object) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function, *args)


def _encode(password: str) -> bytes:
    # JSON can carry lone surrogates ("\ud800"); strict UTF-8 would raise on them and turn a
    # silly password into a server error. surrogatepass gives them a stable byte form instead.
    return password.encode("utf-8", "surrogatepass")
